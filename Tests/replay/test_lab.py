"""The lab itself, against plain Kea (no hook): every fixture is answered from
the right subnet and address, nothing LwM2M appears, reloads do not leak, and
teardown leaves nothing behind.  These pass before the hook exists and show
that hook failures elsewhere are not harness artefacts."""

from __future__ import annotations

import ipaddress
import os
import subprocess

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

import lwm2mlab as lab
import make_fixtures as mf
from conftest import REPLY_TYPE, reload_cycle

FIXTURES = list(mf.FIXTURES.values())


@pytest.fixture(scope="module")
def plain_servers():
    with lab.Lab() as net, lab.KeaServer(net, 4, lab.base_config(4)) as k4, \
            lab.KeaServer(net, 6, lab.base_config(6)) as k6:
        yield net, {4: k4, 6: k6}


@pytest.fixture(scope="module")
def plain_replies(plain_servers):
    """All fixtures sent in one go; {fixture name: [reply frames]}."""
    net, _ = plain_servers
    replies = net.exchange([fx.frame() for fx in FIXTURES])
    return {fx.name: replies[lab.decode(fx.frame()).xid] for fx in FIXTURES}


def expected_destination(fx: mf.Fixture):
    """(address, port) Kea must answer a fixture at."""
    q = lab.decode(fx.frame())
    if fx.family == 4:
        if "relay" in fx.name:
            return str(ipaddress.ip_address(q.raw[24:28])), 67   # giaddr
        if q.raw[12:16] != bytes(4):
            return str(ipaddress.ip_address(q.raw[12:16])), 68   # INFORM, renewing: ciaddr
        return "255.255.255.255", 68                             # broadcast flag set
    return (lab.CLIENT6, 547) if "relay" in fx.name else (lab.CLIENT6_LL, 546)


@pytest.mark.parametrize("fx", FIXTURES, ids=lambda f: f.name)
def test_plain_kea_answers_fixture(fx, plain_replies):
    got = plain_replies[fx.name]
    assert len(got) == 1, f"{len(got)} replies"
    query, reply = lab.decode(fx.frame()), lab.decode(got[0])
    evidence = lab.describe(reply)
    assert reply.msg_type == REPLY_TYPE[fx.family][query.msg_type], evidence
    assert lab.selected_subnet(reply) == fx.subnet, evidence
    ip_layer = got[0][IP] if fx.family == 4 else got[0][IPv6]
    assert (ip_layer.dst, got[0][UDP].dport) == expected_destination(fx), evidence
    if fx.family == 6 and "relay" in fx.name:
        assert bytes(got[0][UDP].payload)[0] == 13, "not a RELAY-REPL"
    # Without the hook no LwM2M option may appear: the hooked tests' positive
    # findings come from the hook, not from Kea's configuration.
    problems = lab.lwm2m_problems(query, reply, None)
    assert not problems, "\n".join(problems) + "\n" + evidence


def test_plain_kea_logs_no_errors(plain_servers, plain_replies):
    for kea in plain_servers[1].values():
        assert kea.log_lines("ERROR") == []


@pytest.mark.parametrize("family", [4, 6])
def test_plain_kea_reload_is_stable(family, kea_factory):
    """The reload check used on the hook passes on Kea alone."""
    net, kea = kea_factory(family, lab.base_config(family))
    frames = [fx.frame() for fx in FIXTURES if fx.family == family]

    def snapshot():
        replies = net.exchange(frames)
        return sorted((x, len(r), lab.selected_subnet(lab.decode(r[0])) if r else None)
                      for x, r in replies.items())

    reload_cycle(kea, snapshot)


def test_teardown_leaves_nothing():
    net = lab.Lab()
    kea = lab.KeaServer(net, 4, lab.base_config(4))
    pid, tmp, names = kea.pid, kea.tmp, (net.srv_ns, net.cli_ns)
    kea.close()
    net.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not tmp.exists()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(n in listed.split() for n in names)
