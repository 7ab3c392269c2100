"""Bad parameters are refused (load() fails, Kea rejects the configuration);
a bad store is not (Kea serves on, without LwM2M options, and logs an error);
the store takes DER; non-default codes and size limits are honoured."""

from __future__ import annotations

import json

import pytest

import lwm2mlab as lab
import make_fixtures as mf
from conftest import URIS

# Parameter sets load() must refuse (each next to a valid store-file).
INVALID = {
    4: {
        "unknown-key": {"no-such-parameter": 1},
        "uri-code-53": {"bootstrap-uri-code": 53},        # Kea's message-type option
        "cert-code-0": {"server-certificate-code": 0},    # PAD
        "uri-code-255": {"bootstrap-uri-code": 255},      # END
        "cert-code-256": {"server-certificate-code": 256},
        "size-575": {"default-max-message-size": 575},
        "size-1501": {"default-max-message-size": 1501},
        "code-as-string": {"bootstrap-uri-code": "224"},
    },
    6: {
        "unknown-key": {"no-such-parameter": 1},
        "max-size-in-v6": {"default-max-message-size": 576},
        "uri-code-0": {"bootstrap-uri-code": 0},
        "cert-code-65536": {"server-certificate-code": 65536},
        "code-as-string": {"server-certificate-code": "201"},
    },
}
INVALID_CASES = [(fam, name) for fam, cases in INVALID.items() for name in cases]


def lwm2m_fixture(family: int) -> mf.Fixture:
    """A fixture on subnet A that asks for both options with room for both."""
    return mf.FIXTURES["v4_discover_mms1500" if family == 4 else "v6_solicit_lwm2m"]


def load_error(kea_log: str, hook) -> bool:
    """Kea logged that the hook's load() failed."""
    return f"HOOKS_LOAD_ERROR 'load' function in hook library {hook} returned error" in kea_log


@pytest.mark.parametrize("family,case", INVALID_CASES, ids=[f"v{f}-{c}" for f, c in INVALID_CASES])
def test_invalid_parameter_refused_at_start(family, case, hook, suite, tmp_path):
    """kea-dhcpN -c <config with the bad parameter> exits with an error from load()."""
    store = suite.write_store(tmp_path)
    with lab.Lab() as net:
        with pytest.raises(lab.KeaError) as failed:
            lab.KeaServer(net, family, suite.body(family, hook, store, **INVALID[family][case]))
    assert failed.value.returncode not in (None, 0)
    assert load_error(failed.value.log, hook), failed.value.log[-3000:]


@pytest.mark.parametrize("family,case", [(4, "unknown-key"), (4, "uri-code-53"), (6, "unknown-key")])
def test_invalid_parameter_refused_by_config_set(family, case, hook, suite, kea_factory, tmp_path):
    """config-set with a bad parameter fails (result 1; 5 on Kea 3.0) because load() failed; the
    refused configuration (which also names another store) never takes effect;
    a config-reload of the file brings the old configuration back.

    Kea 2.2 itself stops answering DHCP after a hook fails to load during
    config-set (DHCPn_CONFIG_UNRECOVERABLE_ERROR, seen with Kea's own hooks
    too), so "still serves the old config" is checked after the reload."""
    store = suite.write_store(tmp_path / "good")
    refused = suite.write_store(tmp_path / "refused", uri_a="coap://refused.example")
    net, kea = kea_factory(family, suite.body(family, hook, store))
    fx = lwm2m_fixture(family)
    suite.check(fx, net.exchange([fx.frame()]))

    mark = len(kea.log())
    answer = kea.config_set(suite.body(family, hook, refused, **INVALID[family][case]))
    # A load() failure comes after the parsing stage, once the old
    # configuration is torn down: Kea 3.0 answers CONTROL_RESULT_FATAL_ERROR
    # (5, "could not be reverted") there, 2.2 and 2.6 CONTROL_RESULT_ERROR (1)
    # (src/bin/dhcpN/json_config_parser.cc and src/lib/cc/command_interpreter.h,
    # Kea-3.0.4 against Kea-2.2.0 and Kea-2.6.3).
    assert answer.get("result") == (5 if lab.kea_under_test().at_least("3.0") else 1), answer
    assert load_error(kea.log()[mark:], hook), kea.output_tail()
    assert kea.alive()
    for frames in net.exchange([fx.frame()], timeout=1.0).values():
        for frame in frames:                 # if Kea answers at all: never the refused store
            assert b"refused.example" not in lab.decode(frame).raw, lab.describe(lab.decode(frame))

    answer = kea.config_reload()
    assert answer.get("result") == 0, answer
    suite.check(fx, net.exchange([fx.frame()]))


BROKEN_STORES = {
    "missing": None,
    "not-json": "{ this is not JSON",
    "no-entries": json.dumps({"entries": "nope"}),
}


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("broken", list(BROKEN_STORES))
def test_broken_store_serves_nothing(broken, family, hook, suite, kea_factory, tmp_path):
    """Kea starts, answers normally without LwM2M options, and the log has an error."""
    store = tmp_path / "store.json"
    if BROKEN_STORES[broken] is not None:
        store.write_text(BROKEN_STORES[broken])
    net, kea = kea_factory(family, suite.body(family, hook, store))
    assert not load_error(kea.log(), hook)
    fixtures = [fx for fx in mf.FIXTURES.values() if fx.family == family]
    replies = net.exchange([fx.frame() for fx in fixtures])
    for fx in fixtures:
        suite.check(fx, replies, entry=None)
    assert kea.alive()
    assert kea.log_lines("ERROR"), "no ERROR logged for the broken store"


@pytest.mark.parametrize("family", [4, 6])
def test_store_broken_on_reload(family, hook, suite, kea_factory, tmp_path):
    """A store that breaks before a reload does not fail the reload; replies then
    carry either no LwM2M option or the last good store's values, and an error
    (or warning about keeping the previous store) is logged."""
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(family, suite.body(family, hook, store))
    fx = lwm2m_fixture(family)
    suite.check(fx, net.exchange([fx.frame()]))
    mark = len(kea.log())
    store.write_text("{ broken")
    answer = kea.config_reload()
    assert answer.get("result") == 0, answer
    query = lab.decode(fx.frame())
    (frame,) = net.exchange([fx.frame()])[query.xid]
    reply = lab.decode(frame)
    empty = lab.lwm2m_problems(query, reply, None)
    kept = lab.lwm2m_problems(query, reply, suite.entry("A"))
    assert not empty or not kept, "\n".join(kept) + "\n" + lab.describe(reply)
    new_log = kea.log()[mark:]
    assert " ERROR " in new_log or " WARN " in new_log and "store" in new_log.lower()


@pytest.mark.parametrize("family", [4, 6])
def test_der_certificate_file(family, hook, suite, kea_factory, tmp_path):
    """The store takes a DER certificate file (relative path) as well as PEM."""
    store = suite.write_store(tmp_path, large_file="large.der")
    net, kea = kea_factory(family, suite.body(family, hook, store))
    fx = lwm2m_fixture(family)
    _, reply = suite.check(fx, net.exchange([fx.frame()]))
    assert reply.value(lab.DEFAULT_CODES[family][1]) == b"\x04" + suite.certs["large"].der


@pytest.mark.parametrize("family", [4, 6])
def test_compressed_point_certificate(family, hook, suite, kea_factory, tmp_path):
    """A valid P-256 certificate whose key is in compressed form (RFC 5480) is a
    certificate like any other; in DHCPv4 (~230 B) it fits a 576-byte reply."""
    entries = [{"subnet-id": lab.SUBNETS[4]["B"][1], "bootstrap-uri": URIS["B"],
                "server-certificate": "c.pem"},
               {"subnet": lab.SUBNETS[6]["B"][0], "bootstrap-uri": URIS["B"],
                "server-certificate": "c.pem"}]
    store = lab.write_store(tmp_path / "store.json", entries,
                            {"c.pem": suite.certs["small-compressed"].pem})
    net, kea = kea_factory(family, suite.body(family, hook, store))
    if family == 4:   # relayed to B, no option 57: limit 576
        frame = mf.dhcp4_query("discover", 0x40, mf.PRL_BASE + list(mf.LWM2M4),
                               relay=lab.RELAY4["B"])
    else:
        frame = mf.dhcp6_query("solicit", 0x40, mf.ORO_BASE + list(mf.LWM2M6),
                               relay_link="2001:db8:2::1")
    entry = lab.Entry(URIS["B"].encode(), suite.certs["small-compressed"].der)
    _, reply = suite.check(None, net.exchange([frame]), frame=frame, subnet="B", entry=entry)
    assert reply.value(lab.DEFAULT_CODES[family][1]) == entry.cert_value, lab.describe(reply)


def test_custom_codes_and_default_size_v4(hook, suite, kea_factory, tmp_path):
    """bootstrap-uri-code 250, server-certificate-code 251, default-max-message-size
    1500: a client asking for 250/251 without option 57 gets both (large
    certificate included); one asking for 224/225 gets neither."""
    store = suite.write_store(tmp_path)
    params = {"bootstrap-uri-code": 250, "server-certificate-code": 251,
              "default-max-message-size": 1500}
    net, kea = kea_factory(4, suite.body(4, hook, store, **params))
    custom = mf.dhcp4_query("discover", 0x41, mf.PRL_BASE + [250, 251])
    default = mf.FIXTURES["v4_discover_lwm2m"].frame()
    replies = net.exchange([custom, default])
    _, reply = suite.check(None, replies, frame=custom, subnet="A", codes=(250, 251),
                           default_max=1500)
    assert reply.value(251) == b"\x04" + suite.certs["large"].der, lab.describe(reply)
    _, reply = suite.check(None, replies, frame=default, subnet="A", codes=(250, 251),
                           default_max=1500)
    assert not {224, 225, 250, 251} & set(reply.codes()), lab.describe(reply)


def test_custom_codes_v6(hook, suite, kea_factory, tmp_path):
    """bootstrap-uri-code 300 / server-certificate-code 301 in DHCPv6."""
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(6, suite.body(6, hook, store, **{"bootstrap-uri-code": 300,
                                                              "server-certificate-code": 301}))
    custom = mf.dhcp6_query("solicit", 0x41, mf.ORO_BASE + [300, 301])
    default = mf.FIXTURES["v6_solicit_lwm2m"].frame()
    replies = net.exchange([custom, default])
    _, reply = suite.check(None, replies, frame=custom, subnet="A", codes=(300, 301))
    assert reply.value(300) == URIS["A"].encode(), lab.describe(reply)
    _, reply = suite.check(None, replies, frame=default, subnet="A", codes=(300, 301))
    assert not {200, 201, 300, 301} & set(reply.codes()), lab.describe(reply)
