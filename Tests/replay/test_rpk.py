"""Raw public keys (server-public-key, RFC 7250) against real Kea: the
certificate option carries 0F || SubjectPublicKeyInfo (RFC 7670), byte for
byte as scapy decodes it from the reply, in DHCPv4 and DHCPv6, relayed or
not, from an entry or from the store's default; the size budget treats the
key like a certificate; a store rewritten from a certificate to a key is
served without restart, and lwm2m-status / lwm2m-explain / the statistics
show the key.

The keys are the committed test keys (Tests/replay/make_keys.sh); the
expected SubjectPublicKeyInfo is computed here with python cryptography,
independently of the hook's reader. About 10 s per Kea version.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat, load_der_public_key,
                                                          load_pem_public_key)

import lwm2mlab as lab
import make_fixtures as mf
from conftest import DATA, URIS

RPK = 15        # RFC 7670 "Raw Public Key"
DEADLINE = 5.0  # hot reload's goal


def spki(name: str) -> bytes:
    """The DER SubjectPublicKeyInfo of a test key file, as python cryptography writes it."""
    raw = (DATA / name).read_bytes()
    key = load_pem_public_key(raw) if name.endswith(".pem") else load_der_public_key(raw)
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02x}" for b in hashlib.sha256(der).digest())


# A URI long enough that, with the P-384 key, the options do not both fit a
# 576-octet DHCPv4 reply (the URI alone does): the key is left out there.
LONG_URI = "coaps://bs-rpk.example.com:5684/" + "k" * 200
DEFAULT_URI = "coap://[2001:db8::d]:5683"
# subnet -> (URI, key file) per family; subnets without an entry get the default.
ENTRIES = {
    4: {"A": (LONG_URI, "rpk-p384.pem"), "B": (URIS["B"], "rpk-p256.der")},
    6: {"A": (URIS["A"], "rpk-p256.der")},
}
DEFAULT_KEY = "rpk-ed25519.pem"


def write_rpk_store(folder: Path) -> Path:
    entries = []
    for family, subnets in ENTRIES.items():
        for subnet, (uri, key) in subnets.items():
            prefix, sid = lab.SUBNETS[family][subnet]
            selector = {"subnet-id": sid} if subnet == "B" else {"subnet": prefix}
            entries.append({**selector, "bootstrap-uri": uri, "server-public-key": f"keys/{key}"})
    store = {"default": {"bootstrap-uri": DEFAULT_URI, "server-public-key": f"keys/{DEFAULT_KEY}"}, "entries": entries}
    (folder / "keys").mkdir(parents=True, exist_ok=True)
    for name in {k for subnets in ENTRIES.values() for _, k in subnets.values()} | {DEFAULT_KEY}:
        (folder / "keys" / name).write_bytes((DATA / name).read_bytes())
    path = folder / "store.json"
    path.write_text(json.dumps(store, indent=2))
    return path


def expected(family: int, subnet: str) -> lab.Entry:
    uri, key = ENTRIES[family].get(subnet, (DEFAULT_URI, DEFAULT_KEY))
    return lab.Entry(uri.encode(), spki(key), encoding=RPK)


def check(net: lab.Lab, fixture: mf.Fixture, entry: lab.Entry) -> lab.Message:
    """One reply to `fixture`, right by the reference model for `entry`."""
    query = lab.decode(fixture.frame())
    got = net.exchange([fixture.frame()]).get(query.xid, [])
    assert len(got) == 1, f"{len(got)} replies to {fixture.name}"
    reply = lab.decode(got[0])
    assert lab.selected_subnet(reply) == fixture.subnet, lab.describe(reply)
    problems = lab.lwm2m_problems(query, reply, entry)
    assert not problems, "\n".join(problems) + "\n" + lab.describe(reply)
    return reply


@pytest.fixture(scope="module")
def rpk_servers(hook, tmp_path_factory):
    store = write_rpk_store(tmp_path_factory.mktemp("rpk"))
    with lab.Lab() as net, \
            lab.KeaServer(net, 4, lab.base_config(4, hook, {"store-file": str(store)})) as k4, \
            lab.KeaServer(net, 6, lab.base_config(6, hook, {"store-file": str(store)})) as k6:
        yield net, {4: k4, 6: k6}


@pytest.mark.parametrize("name,subnet", [("v4_discover_mms1500", "A"), ("v4_discover_relay_b", "B"),
                                         ("v4_discover_relay_c", "C"), ("v6_solicit_lwm2m", "A"),
                                         ("v6_solicit_relay_b", "B"), ("v6_inforeq_lwm2m", "A")])
def test_key_is_sent_as_encoding_15_and_the_spki(rpk_servers, name, subnet):
    """0F || SPKI exactly, decoded by scapy from the reply: entries (PEM and
    DER files, P-384 and P-256) and the default (Ed25519), direct and relayed."""
    net, _ = rpk_servers
    fixture = mf.FIXTURES[name]
    assert fixture.subnet == subnet
    entry = expected(fixture.family, subnet)
    reply = check(net, fixture, entry)
    value = reply.value(lab.DEFAULT_CODES[fixture.family][1])
    assert value is not None, lab.describe(reply)
    assert value[0] == RPK and value[1:] == entry.cert_der, lab.describe(reply)
    assert load_der_public_key(value[1:]).public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == value[1:]
    if fixture.family == 4:
        # A raw public key always fits one option instance (at most 121 octets): never split.
        assert [c for c, _ in reply.options].count(225) == 1, lab.describe(reply)


def test_key_is_left_out_when_it_does_not_fit_v4(rpk_servers):
    """The size budget treats the key as a certificate: a 576-octet client
    gets the long URI alone, a 1500-octet one both."""
    net, _ = rpk_servers
    entry = expected(4, "A")
    small = check(net, mf.FIXTURES["v4_discover_mms576"], entry)
    assert small.value(224) == entry.uri and small.value(225) is None, lab.describe(small)
    large = check(net, mf.FIXTURES["v4_discover_mms1500"], entry)
    assert large.value(225) == bytes([RPK]) + entry.cert_der, lab.describe(large)


def test_healthy_rpk_servers_log_no_errors(rpk_servers):
    for kea in rpk_servers[1].values():
        assert kea.alive()
        assert "LWM2M_STORE_LOAD_FAILED" not in kea.log()


def served(net: lab.Lab, family: int) -> bytes | None:
    fixture = mf.FIXTURES["v4_discover_mms1500" if family == 4 else "v6_solicit_lwm2m"]
    query = lab.decode(fixture.frame())
    got = net.exchange([fixture.frame()], timeout=2.0).get(query.xid, [])
    assert len(got) == 1, f"{len(got)} replies"
    return lab.decode(got[0]).value(lab.DEFAULT_CODES[family][1])


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
def test_hot_reload_from_certificate_to_key(family, hook, suite, kea_factory, tmp_path):
    """The suite store (subnet A: large.pem) is rewritten by rename to name a
    raw public key for subnet A: served without restart, then lwm2m-status,
    lwm2m-explain and the statistics show the key."""
    store = suite.write_store(tmp_path / "store")
    net, kea = kea_factory(family, suite.body(family, hook, store))
    kea.wait_log(r"LWM2M_WATCHING")
    assert served(net, family) == b"\x04" + suite.certs["large"].der

    key_file = store.parent / "keys" / "bs.pem"
    key_file.parent.mkdir()
    key_file.write_bytes((DATA / "rpk-p384.pem").read_bytes())
    document = json.loads(store.read_text())
    prefix_a, sid_a = lab.SUBNETS[family]["A"]
    for entry in document["entries"]:
        if entry.get("subnet") == prefix_a:
            del entry["server-certificate"]
            entry["server-public-key"] = "keys/bs.pem"
    new = store.with_name("store.json.new")
    new.write_text(json.dumps(document))
    os.replace(new, store)
    der = spki("rpk-p384.pem")
    deadline = time.monotonic() + DEADLINE
    while served(net, family) != bytes([RPK]) + der:
        assert kea.alive(), kea.output_tail()
        assert time.monotonic() < deadline, f"the key is not served\n{kea.output_tail()}"
        time.sleep(0.2)

    status = kea.command("lwm2m-status")
    assert status["result"] == 0, status
    served_files = {c["file"]: c for c in status["arguments"]["certificates"]}
    key = served_files[str(key_file)]
    assert key["encoding"] == RPK and key["key-type"] == "EC P-384", key
    assert key["sha256-fingerprint"] == fingerprint(der) and key["expired"] is False, key
    assert "subject" not in key and "not-after" not in key, key
    small = served_files[str(store.parent / "certs" / "small.pem")]
    assert small["encoding"] == 4 and small["subject"] and "key-type" not in small, small

    explain = kea.command("lwm2m-explain", {"subnet-id": sid_a})
    assert explain["result"] == 0, explain
    certificate = explain["arguments"]["entry"]["certificate"]
    assert certificate["store-key"] == "server-public-key" and certificate["key-type"] == "EC P-384", certificate
    assert certificate["sha256-fingerprint"] == fingerprint(der) and certificate["file"] == str(key_file), certificate
    wire = bytes.fromhex({o["name"]: o for o in explain["arguments"]["options"]}["server-certificate"]["wire-hex"])
    if family == 4:
        assert lab.tlv4(wire) == [(225, bytes([RPK]) + der)]
    else:
        assert lab.tlv6(wire) == [(201, bytes([RPK]) + der)]

    # The key counts as a certificate sent (counts reach Kea's statistics at the next tick, 1 s).
    name = f"subnet[{sid_a}].lwm2m-certificate-sent"

    def sent() -> int:
        return kea.command("statistic-get", {"name": name})["arguments"][name][0][0]
    time.sleep(1.5)
    before = sent()
    assert served(net, family) == bytes([RPK]) + der
    deadline = time.monotonic() + 3.0
    while sent() != before + 1:
        assert time.monotonic() < deadline, (before, sent())
        time.sleep(0.2)
