"""`check` agrees with the hook inside a real Kea: the same store problems,
word for word, and the same verdict on option codes (Kea 2.2's own
definitions, which the command carries as a table)."""

from __future__ import annotations

import json

import pytest

import lwm2mlab as lab
from conftest import DATA, needs_root, run, write_store

pytestmark = needs_root
URI = "coaps://bs.example.com:5684"


def test_store_problems_are_the_hooks_own_words(cli, hook, tmp_path):
    store = write_store(tmp_path, [
        {"subnet": "192.0.2.1/24", "bootstrap-uri": URI},
        {"subnet-id": 2, "bootstrap-uri": "coaps://bs.example.com:99999"},
        {"subnet-id": 3, "bootstrap-uri": URI, "server-certificate": "nowhere.pem"},
        {"subnet-id": 4, "bootstrap-uri": URI, "server-certificate": str(DATA / "small.pem"), "colour": 1},
    ])
    result = run("check", store, check=1)
    problems = [line for line in result.stdout.splitlines() if line.startswith(f"{store}:")]
    assert len(problems) == 4
    with lab.Lab() as net, lab.KeaServer(net, 4, lab.base_config(4, hook, {"store-file": str(store)})) as kea:
        kea.wait_log("LWM2M_STORE_LOAD_FAILED")
        logged = [line for line in kea.log().splitlines() if "LWM2M_STORE_LOAD_FAILED" in line]
    assert len(logged) == 1
    assert "; ".join(problems) in logged[0]


def kea_accepts(net, hook, family: int, store, code: int) -> bool:
    params = {"store-file": str(store), "bootstrap-uri-code": code}
    try:
        with lab.KeaServer(net, family, lab.base_config(family, hook, params)) as kea:
            return "LWM2M_LOADED" in kea.log()
    except lab.KeaError as error:
        assert "LWM2M_LOAD_FAILED" in error.log, error.log[-2000:]
        return False


# Codes on both sides of the edges of Kea 2.2's DHCPv6 table (10 is a gap,
# 143 the last standard code) and the DHCPv4 codes next to the private range.
@pytest.mark.parametrize("family,code", [(6, 10), (6, 11), (6, 143), (6, 144), (6, 1000), (4, 224)])
def test_option_code_verdict_matches_kea(cli, hook, tmp_path, family, code):
    store = write_store(tmp_path, [{"subnet-id": 1, "bootstrap-uri": URI}])
    body = lab.base_config(family, hook, {"store-file": str(store), "bootstrap-uri-code": code})
    config = tmp_path / "kea.conf"
    config.write_text(json.dumps({f"Dhcp{family}": body}))
    cli_accepts = run("check", "--kea-config", config).returncode == 0
    with lab.Lab() as net:
        assert kea_accepts(net, hook, family, store, code) == cli_accepts
