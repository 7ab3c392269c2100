"""kea-lwm2m check: stores and Kea configurations, good and bad."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import REPO, run, write_store

URI = "coaps://bs.example.com:5684"


def test_good_store_passes(cli, certs, tmp_path):
    store = write_store(tmp_path, [
        {"subnet": "192.0.2.0/24", "bootstrap-uri": URI, "server-certificate": "certs/large.pem"},
        {"subnet-id": 7, "bootstrap-uri": "coap://[2001:db8::5]:5683"},
        {"subnet": "2001:db8:1::/64", "bootstrap-uri": URI, "server-certificate": "certs/small.pem"},
    ])
    result = run("check", store, check=0)
    assert f"{store}: OK, 3 entries" in result.stdout
    assert f"{store}: DHCPv4: 2 entries, 1 certificate; option codes 224 (URI), 225 (certificate)" in result.stdout
    assert f"{store}: DHCPv6: 2 entries, 1 certificate; option codes 200 (URI), 201 (certificate)" in result.stdout
    assert result.stdout.rstrip().endswith("OK")
    assert result.stderr == ""


def test_family_restricts_and_warns_about_other_family(cli, tmp_path):
    store = write_store(tmp_path, [{"subnet": "2001:db8:1::/64", "bootstrap-uri": URI}])
    result = run("check", store, "--family", "4", check=0)
    assert "DHCPv6" not in result.stdout
    assert f"{store}:1: subnet 2001:db8:1::/64: note: not a DHCPv4 subnet; ignored by this server" in result.stdout
    # One store for both servers is normal: a note, not a warning.
    assert run("check", store, "--family", "4", "--strict").returncode == 0


def test_bad_store_lists_every_problem(cli, tmp_path):
    store = write_store(tmp_path, [
        {"subnet": "192.0.2.1/24", "bootstrap-uri": URI},
        {"subnet-id": 3, "bootstrap-uri": "http://bs.example.com"},
        {"subnet-id": 4, "bootstrap-uri": URI, "server-certificate": "missing.pem"},
        {"subnet-id": 5, "bootstrap-uri": URI},
        {"subnet-id": 5, "bootstrap-uri": URI},
    ])
    result = run("check", store, check=1)
    lines = [line[len(f"{store}:"):] for line in result.stdout.splitlines() if line.startswith(f"{store}:")]
    lines = [line for line in lines if line[:1].isdigit()]
    assert [line.split(":")[0] for line in lines] == ["1", "2", "3", "5"]
    assert [line.split(": ")[1] for line in lines[1:]] == ["subnet-id 3", "subnet-id 4", "subnet-id 5"]
    assert "host bits are set; the subnet is 192.0.2.0/24" in lines[0]
    assert "No such file or directory" in lines[2]
    assert "already given by entry 4" in lines[3]
    assert result.stdout.splitlines()[-1] == "FAILED: 4 problems, 0 warnings"


def test_oversized_certificate_warns(cli, certs, tmp_path):
    store = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": URI, "server-certificate": "certs/xlarge.pem"}])
    result = run("check", store, "--family", "4", check=0)
    assert f"{store}:1: warning: the certificate cannot fit any DHCPv4 reply" in result.stdout
    assert run("check", store, "--family", "6", check=0).stdout.count("warning") == 0


@pytest.mark.parametrize("args,needle", [
    (["check", "/nonexistent/store.json"], "/nonexistent/store.json: cannot open: No such file or directory"),
    (["check"], "give a STORE file, or --kea-config FILE"),
    (["check", "x.json", "--family", "5"], "--family"),
    (["check", "--kea-config", "/nonexistent/kea.conf"], "/nonexistent/kea.conf: cannot open"),
    (["frobnicate"], "frobnicate"),
])
def test_usage_errors_are_one_line_and_status_2(cli, args, needle):
    result = run(*args, check=2)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("kea-lwm2m: ")
    assert needle in result.stderr


# ---- --kea-config ------------------------------------------------------------

def kea_config(tmp_path: Path, family: int, params: dict | None, *, extra: dict | None = None,
               comments: bool = True) -> Path:
    """A Kea configuration in the style of kea-config/, with comments Kea allows."""
    body = lab_body(family)
    if params is not None:
        body["hooks-libraries"] = [{"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lwm2m.so",
                                    "parameters": params}]
    body.update(extra or {})
    text = json.dumps({f"Dhcp{family}": body}, indent=2)
    if comments:
        text = ("# Kea configuration\n// with every comment style Kea accepts\n/* block\n comment */\n"
                + text.replace('"valid-lifetime"', '/* inline */ "valid-lifetime"', 1))
    path = tmp_path / f"kea-dhcp{family}.conf"
    path.write_text(text)
    return path


def lab_body(family: int) -> dict:
    import lwm2mlab as lab
    return lab.base_config(family)


def test_config_good(cli, certs, tmp_path):
    store = write_store(tmp_path, [
        {"subnet": "192.0.2.0/24", "bootstrap-uri": URI, "comment": "http://not-a-comment // here"},
        {"subnet-id": 2, "bootstrap-uri": URI},
        {"subnet-id": 3, "bootstrap-uri": URI, "server-certificate": "certs/small.pem"},
    ])
    config = kea_config(tmp_path, 4, {"store-file": str(store), "bootstrap-uri-code": 230})
    result = run("check", "--kea-config", config, check=0)
    assert f"{config}: DHCPv4 server configuration, 3 subnets" in result.stdout
    assert f"{config}: hooks-libraries[0]: parameters OK: store-file {store}, option codes 230 (URI), 225 (certificate)" in result.stdout
    assert "warning" not in result.stdout
    assert result.stdout.splitlines()[-1] == "OK"


def test_config_store_from_config_parses_url_in_string(cli, tmp_path):
    """'//' inside a JSON string is not a comment (the store path has one)."""
    folder = tmp_path / "a//b"
    folder.mkdir(parents=True)
    store = write_store(folder, [{"subnet-id": 1, "bootstrap-uri": URI}])
    config = kea_config(tmp_path, 4, {"store-file": str(tmp_path) + "/a//b/store.json"})
    result = run("check", "--kea-config", config)
    assert "a//b/store.json: OK, 1 entry" in result.stdout, result.stdout


def test_config_warns_for_unknown_subnets_and_uncovered_subnets(cli, tmp_path):
    store = write_store(tmp_path, [
        {"subnet-id": 1, "bootstrap-uri": URI},
        {"subnet-id": 99, "bootstrap-uri": URI},
        {"subnet": "10.9.0.0/16", "bootstrap-uri": URI},
        {"subnet": "2001:db8:1::/64", "bootstrap-uri": URI},   # the other family: silent
    ])
    config = kea_config(tmp_path, 4, {"store-file": str(store)})
    result = run("check", "--kea-config", config, check=0)
    assert f"{store}:2: subnet-id 99: warning: matches nothing in {config}: no subnet4 has id 99" in result.stdout
    assert f"{store}:3: subnet 10.9.0.0/16: warning: matches nothing in {config}: no subnet 10.9.0.0/16 in the configuration" in result.stdout
    assert "2001:db8:1::/64" not in result.stdout
    uncovered = [line for line in result.stdout.splitlines() if "no store entry names this subnet" in line]
    assert [re.search(r"subnet (\S+) \(id (\d+)\)", line).groups() for line in uncovered] == [
        ("198.51.100.0/24", "2"), ("203.0.113.0/24", "3")]
    assert result.stdout.splitlines()[-1] == "OK (4 warnings)"
    assert run("check", "--kea-config", config, "--strict").returncode == 1


def test_config_shared_network_subnets_are_seen(cli, tmp_path):
    store = write_store(tmp_path, [{"subnet-id": 42, "bootstrap-uri": URI}])
    extra = {"shared-networks": [{"name": "floor1", "subnet4": [
        {"id": 42, "subnet": "10.42.0.0/16", "pools": [{"pool": "10.42.0.10 - 10.42.0.20"}]}]}]}
    config = kea_config(tmp_path, 4, {"store-file": str(store)}, extra=extra)
    result = run("check", "--kea-config", config, check=0)
    assert "subnet-id 42" not in result.stdout
    assert "subnet 10.42.0.0/16" not in result.stdout


@pytest.mark.parametrize("family,params,extra,needle", [
    (4, {"store-file": "S", "server-certificate-code": 230},
     {"option-def": [{"name": "my-option", "code": 230, "type": "string", "space": "dhcp4"}]},
     "parameter 'server-certificate-code': option code 230 is already defined in Kea's DHCPv4 option space; "
     "choose an unused code (code 230 is option-def 'my-option' of this file)"),
    (4, {"store-file": "S"},
     {"option-def": [{"name": "my-default-clash", "code": 224, "type": "string"}]},
     "parameter 'bootstrap-uri-code': the default option code 224 is already defined"),
    (6, {"store-file": "S", "bootstrap-uri-code": 23}, {},
     "(code 23 is Kea's standard option 'dns-servers')"),
    (4, {"store-file": "S", "bootstrap-uri-code": 12}, {},
     "parameter 'bootstrap-uri-code': must be an integer from 224 to 254"),
    (4, {"store-file": "S", "colour": "blue"}, {}, "parameter 'colour': unknown"),
    (6, {"store-file": "S", "default-max-message-size": 1000}, {}, "applies to DHCPv4 only"),
    (4, None, {}, "no hooks-libraries entry loads libdhcp_lwm2m.so"),
])
def test_config_parameter_problems(cli, tmp_path, family, params, extra, needle):
    store = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": URI}])
    if params is not None:
        params = {k: (str(store) if v == "S" else v) for k, v in params.items()}
    config = kea_config(tmp_path, family, params, extra=extra)
    result = run("check", "--kea-config", config, check=1)
    assert needle in result.stdout


def test_config_with_broken_store(cli, tmp_path):
    store = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": "ftp://x"}])
    config = kea_config(tmp_path, 4, {"store-file": str(store)})
    result = run("check", "--kea-config", config, check=1)
    assert f"{store}:1: subnet-id 1: bootstrap-uri 'ftp://x'" in result.stdout


def test_config_store_argument_overrides_config(cli, tmp_path):
    good = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": URI}], "good.json")
    config = kea_config(tmp_path, 4, {"store-file": "/nonexistent/store.json"})
    assert run("check", "--kea-config", config).returncode == 1
    result = run("check", good, "--kea-config", config, check=0)
    assert f"{good}: OK, 1 entry" in result.stdout


def test_config_not_json_is_a_problem(cli, tmp_path):
    config = tmp_path / "broken.conf"
    config.write_text('{ "Dhcp4": { "subnet4": [ } }')
    result = run("check", "--kea-config", config, check=1)
    assert f"{config}: not valid JSON" in result.stdout


def test_example_configs_check_clean(cli, tmp_path):
    """The shipped examples, pointed at the shipped store: no problems."""
    store = REPO / "kea-config" / "lwm2m-store.json"
    for name in ("kea-dhcp4.conf", "kea-dhcp6.conf"):
        result = run("check", store, "--kea-config", REPO / "kea-config" / name)
        assert result.returncode == 0, result.stdout


def test_copied_lease_database_keys_are_accepted_and_said_to_have_no_effect(cli, tmp_path):
    """Kea's lease-database keys for PostgreSQL in store-database: accepted
    (checked as Kea checks them), and check says which have no effect."""
    text = (REPO / "kea-config" / "kea-dhcp4-ha-fleet.conf").read_text()
    password = tmp_path / "lwm2m-db.password"
    password.write_text("secret\n")
    password.chmod(0o600)
    copied = '"connect-timeout": 5, "tcp-user-timeout": 10, "max-reconnect-tries": 3, "on-fail": "serve-retry-continue",'
    config = tmp_path / "kea-dhcp4.conf"
    config.write_text(text.replace("/etc/kea/lwm2m-db.password", str(password))
                      .replace('"connect-timeout": 5,', copied))
    result = run("check", "--kea-config", config)
    assert result.returncode == 0, result.stdout
    assert "store-database: 'max-reconnect-tries', 'on-fail' (Kea's lease-database keys) have no effect" in result.stdout
    config.write_text(config.read_text().replace('"serve-retry-continue"', '"retry-forever"'))
    result = run("check", "--kea-config", config, check=1)
    assert "'on-fail' must be one of" in result.stdout, result.stdout


def test_ha_fleet_example_checks_clean(cli, tmp_path):
    """kea-config/kea-dhcp4-ha-fleet.conf (store-database): its parameters pass
    (the password file and cache file pointed at test files), and the cache
    file, a store file, is checked; without one, check says where the store is."""
    text = (REPO / "kea-config" / "kea-dhcp4-ha-fleet.conf").read_text()
    password = tmp_path / "lwm2m-db.password"
    password.write_text("secret\n")
    password.chmod(0o600)
    config = tmp_path / "kea-dhcp4.conf"
    config.write_text(text.replace("/etc/kea/lwm2m-db.password", str(password))
                      .replace("/var/lib/kea/lwm2m-cache.json", str(tmp_path / "cache.json")))
    result = run("check", "--kea-config", config)
    assert result.returncode == 0, result.stdout
    assert "store-database postgresql database 'lwm2m' on db.example.net" in result.stdout
    assert "kea-lwm2m db status --kea-config" in result.stdout
    store = REPO / "kea-config" / "lwm2m-store.json"
    (tmp_path / "cache.json").write_text(store.read_text())
    (tmp_path / "certs").symlink_to(REPO / "kea-config" / "certs")
    result = run("check", "--kea-config", config)
    assert result.returncode == 0 and f"{tmp_path / 'cache.json'}: OK" in result.stdout, result.stdout
    password.chmod(0o666)
    result = run("check", "--kea-config", config, check=1)
    assert "'password-file'" in result.stdout and "writable by" in result.stdout, result.stdout
