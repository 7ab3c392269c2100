"""kea-lwm2m explain: which entry wins, why, and the bytes (Snapshot.answer)."""

from __future__ import annotations

import re

import pytest

from conftest import DATA, der_of, run, write_store

URI_ID = "coaps://by-id.example.com:5684"
URI_PREFIX = "coaps://by-prefix.example.com:5684"


@pytest.fixture()
def store(tmp_path):
    return write_store(tmp_path, [
        {"subnet": "192.0.2.0/24", "bootstrap-uri": URI_PREFIX},
        {"subnet-id": 1, "bootstrap-uri": URI_ID, "server-certificate": str(DATA / "large.pem")},
        {"subnet": "2001:db8:1::/64", "bootstrap-uri": URI_PREFIX, "server-certificate": str(DATA / "small.pem")},
    ])


def wire_of(out: str, title: str) -> bytes:
    block = out.split(title, 1)[1]
    return bytes.fromhex("".join(re.findall(r"^  (?:\[\d+\] )?([0-9a-f]+)$", block.split(" option (code")[0], re.M)))


def test_subnet_id_wins_over_prefix(cli, store):
    out = run("explain", store, "--subnet-id", 1, "--address", "192.0.2.9/24", "--max-message-size", 1500, check=0).stdout
    assert "  entry 1 (subnet 192.0.2.0/24): matches" in out
    assert "  entry 2 (subnet-id 1): matches" in out
    assert "result: entry 2 (subnet-id 1) applies" in out
    uri = wire_of(out, "URI option (code 224)")
    assert uri == bytes([224, len(URI_ID)]) + URI_ID.encode()
    cert = wire_of(out, "certificate option (code 225)")
    value = b"\x04" + der_of(DATA / "large.pem")
    assert cert == b"".join(bytes([225, len(value[i:i + 255])]) + value[i:i + 255] for i in range(0, len(value), 255))


def test_prefix_only(cli, store):
    out = run("explain", store, "--address", "192.0.2.77", "--prefix-length", 24, check=0).stdout
    assert "result: entry 1 (subnet 192.0.2.0/24) applies" in out
    assert "  server-certificate: none" in out


def test_certificate_left_out_without_option_57(cli, store):
    """576 octets by default: a ~870-octet certificate does not fit."""
    out = run("explain", store, "--subnet-id", 1, check=0).stdout
    assert "size limit: 576 octets" in out
    assert "the certificate does not fit the reply" in out
    assert "certificate option" not in out and "URI option (code 224)" in out


def test_v6_by_address_and_codes(cli, store):
    out = run("explain", store, "--address", "2001:db8:1::42/64", "--codes", "1000,1001", check=0).stdout
    assert "client: DHCPv6" in out
    assert "result: entry 3 (subnet 2001:db8:1::/64) applies" in out
    value = b"\x04" + der_of(DATA / "small.pem")
    assert wire_of(out, "certificate option (code 1001)") == bytes([0x03, 0xe9]) + len(value).to_bytes(2, "big") + value


def test_no_entry_is_status_1(cli, store):
    out = run("explain", store, "--subnet-id", 5, check=1).stdout
    assert "result: no entry applies" in out


def test_address_resolved_through_kea_config(cli, store, tmp_path):
    import json
    import lwm2mlab as lab
    config = tmp_path / "kea.conf"
    config.write_text(json.dumps({"Dhcp4": lab.base_config(4)}))
    out = run("explain", store, "--address", "192.0.2.200", "--kea-config", config, check=0).stdout
    assert "note: Kea would select subnet 192.0.2.0/24 (id 1)" in out
    assert "result: entry 2 (subnet-id 1) applies" in out
    out = run("explain", store, "--address", "198.51.100.3", "--kea-config", config, check=1).stdout
    assert "client: DHCPv4, subnet-id 2, subnet 198.51.100.0/24" in out
    assert run("explain", store, "--address", "10.1.1.1", "--kea-config", config, check=2).stderr.count("\n") == 1


def test_class_and_identifiers_accepted(cli, store):
    out = run("explain", store, "--subnet-id", 1, "--class", "gold", "--hw", "02:00:00:00:00:01", check=0).stdout
    assert "classes gold" in out and "hw 02:00:00:00:00:01" in out
    assert "result: entry 2 (subnet-id 1) applies" in out, "no class or host entry: the subnet's"


def test_class_host_and_default_entries(cli, tmp_path):
    """Selection beyond the subnet: host > class > subnet-id > default, and a
    certificate-only entry more specific than the URI's."""
    import json
    store = write_store(tmp_path, [
        {"host": {"hw-address": "02:00:00:00:00:01"}, "bootstrap-uri": "coap://host"},
        {"client-class": "gold", "bootstrap-uri": "coap://gold"},
        {"subnet-id": 1, "bootstrap-uri": URI_ID},
        {"client-class": "signed", "server-certificate": str(DATA / "small.pem")},
    ])
    doc = json.loads(store.read_text())
    doc["default"] = {"bootstrap-uri": "coap://default"}
    store.write_text(json.dumps(doc))
    out = run("explain", store, "--subnet-id", 1, "--class", "gold", "--hw", "02:00:00:00:00:01", check=0).stdout
    assert "result: entry 1 (host hw-address 02:00:00:00:00:01) applies" in out, out
    out = run("explain", store, "--subnet-id", 1, "--class", "gold", check=0).stdout
    assert "result: entry 2 (client-class 'gold') applies" in out, out
    out = run("explain", store, "--subnet-id", 1, "--class", "signed", "--max-message-size", 1500, check=0).stdout
    assert "result: entry 3 (subnet-id 1) applies" in out, out
    assert "from entry 4 (client-class 'signed')" in out, out
    out = run("explain", store, "--subnet-id", 9, check=0).stdout
    assert "result: the default applies" in out and "  default: matches" in out, out


def test_client_id_and_shared_network_entries(cli, tmp_path):
    """host client-id beats shared-network, which beats the default; the
    shared network comes from --shared-network or from --kea-config."""
    import json
    import lwm2mlab as lab
    store = write_store(tmp_path, [
        {"shared-network": "floor1", "bootstrap-uri": "coap://floor1"},
        {"host": {"client-id": "01020304"}, "bootstrap-uri": "coap://cid"},
    ])
    doc = json.loads(store.read_text())
    doc["default"] = {"bootstrap-uri": "coap://default"}
    store.write_text(json.dumps(doc))
    out = run("explain", store, "--subnet-id", 5, "--shared-network", "floor1", check=0).stdout
    assert "result: entry 1 (shared-network 'floor1') applies" in out, out
    out = run("explain", store, "--subnet-id", 5, "--shared-network", "floor1", "--client-id", "01:02:03:04", check=0).stdout
    assert "result: entry 2 (host client-id 01:02:03:04) applies" in out, out
    out = run("explain", store, "--subnet-id", 5, check=0).stdout
    assert "result: the default applies" in out, out
    body = lab.base_config(4)
    subnet = body.pop("subnet4")[0]
    body["shared-networks"] = [{"name": "floor1", "subnet4": [subnet]}]
    config = tmp_path / "kea.conf"
    config.write_text(json.dumps({"Dhcp4": body}))
    out = run("explain", store, "--address", "192.0.2.50", "--kea-config", config, check=0).stdout
    assert "shared network 'floor1'" in out and "result: entry 1 (shared-network 'floor1') applies" in out, out


@pytest.mark.parametrize("args,needle", [
    ([], "give --subnet-id N or --address A"),
    (["--subnet-id", "1", "--client-id", "zz"], "--client-id 'zz'"),
    (["--subnet-id", "1", "--shared-network", ""], "--shared-network must not be empty"),
    (["--address", "192.0.2.1"], "--address needs --prefix-length"),
    (["--address", "nonsense/24"], "is not an IPv4 or IPv6 address"),
    (["--address", "192.0.2.1/40"], "--prefix-length 40 is longer"),
    (["--subnet-id", "1", "--hw", "zz"], "--hw 'zz'"),
    (["--subnet-id", "1", "--hw", "02:00:00:00:00:01", "--duid", "0001"], "not both"),
    (["--subnet-id", "x"], "subnet-id"),
])
def test_bad_arguments(cli, store, args, needle):
    result = run("explain", store, *args, check=2)
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr


def test_missing_store_is_status_2(cli):
    assert "cannot open" in run("explain", "/nonexistent.json", "--subnet-id", 1, check=2).stderr


def test_broken_store_is_status_1(cli, tmp_path):
    bad = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": "nope"}])
    out = run("explain", bad, "--subnet-id", 1, check=1).stdout
    assert f"{bad}:1: subnet-id 1: bootstrap-uri 'nope'" in out


def test_classes_and_hosts_looked_up_in_kea_config(cli, store, tmp_path):
    import json
    import lwm2mlab as lab
    body = lab.base_config(4)
    body["client-classes"] = [{"name": "gold", "test": "substring(option[60].hex,0,4) == 'lwm2'"}]
    body["subnet4"][0]["reservations"] = [{"hw-address": "02:00:00:00:00:01", "ip-address": "192.0.2.250"}]
    config = tmp_path / "kea.conf"
    config.write_text(json.dumps({"Dhcp4": body}))
    out = run("explain", store, "--subnet-id", 1, "--kea-config", config, "--class", "gold", "--class", "silver",
              "--hw", "02-00-00-00-00-01", check=0).stdout
    assert f"note: no client class named 'silver' in {config}" in out
    assert "'gold'" not in out
    assert f"note: {config} has a reservation for hw-address 02-00-00-00-00-01" in out
    out = run("explain", store, "--subnet-id", 1, "--kea-config", config, "--duid", "00:01:02", check=0).stdout
    assert f"note: {config} has no reservation for duid 00:01:02" in out
