"""Renewals, informs and relays against real Kea with the suite store: the
message types the fixtures do not cover.  DHCPv4: REBIND (broadcast REQUEST
from ciaddr), a relayed REBIND and a relayed INFORM.  DHCPv6: RENEW, REBIND
and INFORMATION-REQUEST through one and through two relays -- the options
always in the client's message, never in a relay layer."""

from __future__ import annotations

import pytest

import lwm2mlab as lab
import make_fixtures as mf
from test_selection import relay6

PRL = mf.PRL_BASE + list(mf.LWM2M4)
ORO = mf.ORO_BASE + list(mf.LWM2M6)

V4_CASES = {
    # id: (builder, subnet)
    "rebind-broadcast": (lambda: mf.dhcp4_query("request", 0x21, PRL, max_size=1500, ciaddr="192.0.2.121"), "A"),
    "rebind-relayed": (lambda: mf.dhcp4_query("request", 0x22, PRL, max_size=1500, ciaddr="198.51.100.122",
                                              relay=lab.RELAY4["B"]), "B"),
    "renew-unicast-576": (lambda: mf.dhcp4_query("request", 0x23, PRL, ciaddr="192.0.2.123", unicast=True), "A"),
    "inform-relayed": (lambda: mf.dhcp4_query("inform", 0x24, PRL, max_size=1500, ciaddr="198.51.100.24",
                                              relay=lab.RELAY4["B"]), "B"),
    "inform-576": (lambda: mf.dhcp4_query("inform", 0x25, PRL, ciaddr="192.0.2.25"), "A"),
}


@pytest.mark.parametrize("case", list(V4_CASES), ids=list(V4_CASES))
def test_dhcpv4_renewals_and_informs(case, hooked_servers, suite):
    """ACKs to REBIND/RENEW/INFORM, direct and relayed: the entry's values
    within the client's size limit (576 without option 57: the URI alone)."""
    net, _ = hooked_servers
    build, subnet = V4_CASES[case]
    frame = build()
    _, reply = suite.check(None, net.exchange([frame]), frame=frame, subnet=subnet)
    assert reply.msg_type == 5 and reply.value(224) == suite.entry(subnet).uri, lab.describe(reply)
    query = lab.decode(frame)
    if query.value(57) is not None:
        assert reply.value(225) == suite.entry(subnet).cert_value, lab.describe(reply)


V6_KINDS = {"renew": "2001:db8:2::1a1", "rebind": "2001:db8:2::1a2", "information-request": None}


@pytest.mark.parametrize("relays", [1, 2])
@pytest.mark.parametrize("kind", list(V6_KINDS))
def test_dhcpv6_through_relays(kind, relays, hooked_servers, suite):
    net, _ = hooked_servers
    n = 0x90 + 0x10 * relays + list(V6_KINDS).index(kind)
    direct = mf.dhcp6_query(kind, n, ORO, address=V6_KINDS[kind])
    frame = relay6(direct, "2001:db8:2::1", relays)
    _, reply = suite.check(None, net.exchange([frame]), frame=frame, subnet="B")
    evidence = lab.describe(reply)
    assert reply.msg_type == 7, evidence
    assert reply.value(200) == suite.entry("B").uri, evidence
    assert reply.value(201) == suite.entry("B").cert_value, evidence
    assert [c for c, _ in reply.relay_options].count(9) == relays, evidence
    assert not {200, 201} & {c for c, _ in reply.relay_options}, evidence
