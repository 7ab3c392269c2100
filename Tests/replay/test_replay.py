"""Replay every fixture against Kea with the hook (default parameters, suite
store) and check the LwM2M options of each reply precisely."""

from __future__ import annotations

import pytest

import lab
import make_fixtures as mf

FIXTURES = list(mf.FIXTURES.values())

# Which options each reply must carry: (bootstrap URI, certificate).
# Subnet A has the large RSA certificate, subnet B the small EC one (both
# need more than 576 bytes next to the other options), subnet C nothing.  The generic rules
# in lab.lwm2m_problems() are checked as well; this table pins the outcome.
EXPECT = {
    "v4_discover_lwm2m": (True, False),      # no option 57: default 576
    "v4_discover_plain": (False, False),
    "v4_request_lwm2m": (True, True),        # option 57 = 1500
    "v4_request_plain": (False, False),
    "v4_discover_mms576": (True, False),
    "v4_discover_mms1500": (True, True),
    "v4_discover_mms300": (True, False),     # below 576 counts as 576
    "v4_discover_uri_only": (True, False),   # certificate not requested
    "v4_discover_relay_b": (True, True),     # option 57 = 1500
    "v4_discover_relay_c": (False, False),   # no store entry
    "v4_inform_lwm2m": (True, True),         # option 57 = 1500
    "v6_solicit_lwm2m": (True, True),
    "v6_solicit_plain": (False, False),
    "v6_request_lwm2m": (True, True),
    "v6_request_plain": (False, False),
    "v6_inforeq_lwm2m": (True, True),
    "v6_inforeq_plain": (False, False),
    "v6_solicit_uri_only": (True, False),
    "v6_solicit_relay_b": (True, True),
    "v6_solicit_relay_c": (False, False),
}


def test_expectations_cover_all_fixtures():
    assert set(EXPECT) == set(mf.FIXTURES)


@pytest.mark.parametrize("fx", FIXTURES, ids=lambda f: f.name)
def test_fixture_reply(fx, hooked_servers, suite):
    net, _ = hooked_servers
    query, reply = suite.check(fx, net.exchange([fx.frame()]))
    uri_code, cert_code = lab.DEFAULT_CODES[fx.family]
    got = (reply.value(uri_code) is not None, reply.value(cert_code) is not None)
    assert got == EXPECT[fx.name], lab.describe(reply)


def test_large_certificate_split_rfc3396(hooked_servers, suite):
    """With a 1500-byte limit the ~870-byte certificate arrives in 255-byte parts."""
    net, _ = hooked_servers
    fx = mf.FIXTURES["v4_discover_mms1500"]
    _, reply = suite.check(fx, net.exchange([fx.frame()]))
    want = b"\x04" + suite.certs["large"].der
    sizes = [len(v) for v in reply.values(225)]
    assert sizes == [255] * (len(want) // 255) + [len(want) % 255], lab.describe(reply)
    assert reply.ip_total_length <= 1500


def test_relayed_v6_options_inside_relay_message(hooked_servers, suite):
    net, _ = hooked_servers
    fx = mf.FIXTURES["v6_solicit_relay_b"]
    _, reply = suite.check(fx, net.exchange([fx.frame()]))
    assert [c for c, _ in reply.relay_options] == [9], lab.describe(reply)
    assert reply.value(200) == suite.entry("B").uri


def test_all_fixtures_at_once(hooked_servers, suite):
    """A burst of all fixtures gets the same answers as one at a time."""
    net, _ = hooked_servers
    replies = net.exchange([fx.frame() for fx in FIXTURES])
    for fx in FIXTURES:
        suite.check(fx, replies)


def test_healthy_servers_log_no_errors(hooked_servers, hook):
    for kea in hooked_servers[1].values():
        log = kea.log()
        assert f"HOOKS_LIBRARY_LOADED hooks library {hook}" in log
        assert kea.log_lines("ERROR") == [], "\n".join(kea.log_lines("ERROR"))
