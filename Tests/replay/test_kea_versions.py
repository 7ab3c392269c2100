"""What differs between the Kea versions the hook is built for (2.2, 2.6,
3.0), checked on the Kea under test (KEA_LWM2M_KEA):

* a hook built for another Kea version is refused by Kea itself, with Kea's
  own message, at start (Kea exits with an error status) and on config-set
  (Kea keeps running on its old configuration); nothing dies of a signal;
* the subnet argument of the callouts is read with the type this Kea passes:
  replies carry the options and Kea logs no callout failure, and the hook
  registers subnetX_select only where pktX_send does not always carry the
  subnet (Kea 2.2; subnet4_select also on 2.6/3.0, for DHCPINFORM).

Hooks for the other versions: .build/kea-<version>/ (``make build KEA=...``),
.build/release/ for the machine's own Kea, or $KEA_LWM2M_HOOK_BUILDS/kea-<version>/.
Tests whose other-version hook is not built are skipped, or fail with
KEA_LWM2M_REQUIRE_HOOK=1.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import lwm2mlab as lab
import make_fixtures as mf
from conftest import URIS

KEA = lab.kea_under_test()
OTHER_VERSIONS = [v for v in lab.KNOWN_VERSIONS if v != KEA.version]
CASES = [(v, family) for v in OTHER_VERSIONS for family in (4, 6)]
CASE_IDS = [f"kea-{v}-hook-v{family}" for v, family in CASES]


def other_hook(version: str) -> Path:
    """The hook built for Kea `version`; skips (or fails) when there is none."""
    path = lab.built_hook(version)
    if path is None:
        msg = (f"no hook built for Kea {version} (make build KEA={version}, "
               "or KEA_LWM2M_HOOK_BUILDS=<folder with kea-{version}/>)")
        if os.environ.get("KEA_LWM2M_REQUIRE_HOOK") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def refusal(kea_log: str, foreign: Path) -> str | None:
    """Kea's message refusing `foreign` for the Kea under test, or None.

    Kea checks a hook's version() only after dlopen() succeeded
    (src/lib/hooks/library_manager.cc, openLibrary then checkVersion, the
    same in Kea-2.2.0, Kea-2.6.3 and Kea-3.0.4): a hook linked against
    another Kea's libraries (sonames such as libkea-dhcpsrv.so.69 vs .111 vs
    .132) fails to open first, HOOKS_OPEN_ERROR naming the first missing
    library; one whose libraries are all present fails the version check,
    HOOKS_INCORRECT_VERSION.  Which one applies is read from the files.
    """
    missing = KEA.missing_libraries(foreign)
    if missing:
        want = (f"HOOKS_OPEN_ERROR failed to open hook library {foreign}: "
                f"{missing[0]}: cannot open shared object file")
    else:
        want = f"HOOKS_INCORRECT_VERSION hook library {foreign} is at version "
    return next((line for line in kea_log.splitlines() if want in line), None)


def lwm2m_fixtures(family: int) -> list[mf.Fixture]:
    """Fixtures of `family` whose subnet has an entry in the suite store."""
    return [fx for fx in mf.FIXTURES.values() if fx.family == family and fx.subnet in URIS]


@pytest.mark.parametrize("version,family", CASES, ids=CASE_IDS)
def test_other_versions_hook_refused_at_start(version, family, suite, tmp_path):
    foreign = other_hook(version)
    store = suite.write_store(tmp_path)
    with lab.Lab() as net:
        with pytest.raises(lab.KeaError) as failed:
            lab.KeaServer(net, family, suite.body(family, foreign, store))
    error = failed.value
    everything = error.log + "\n" + str(error)
    # Exited by itself with an error status: a signal death is negative.
    assert error.returncode is not None and error.returncode > 0, \
        f"Kea {KEA.version} exit status {error.returncode} with the Kea {version} hook:\n{everything[-3000:]}"
    assert refusal(everything, foreign), everything[-3000:]
    assert f"HOOKS_LIBRARY_LOADED hooks library {foreign}" not in everything


@pytest.mark.parametrize("version,family", CASES, ids=CASE_IDS)
def test_other_versions_hook_refused_by_config_set(version, family, hook, suite, tmp_path):
    """config-set naming the other version's hook fails (result 1) with Kea's
    message; Kea keeps running, and serves its configuration with our hook
    (at once on 2.6/3.0, after a config-reload on 2.2)."""
    foreign = other_hook(version)
    # Kea 2.6.3/3.0 load hooks only from one folder (KEA_HOOKS_PATH): both
    # hooks go there, under different names.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    ours = Path(shutil.copy(hook, hooks / hook.name))
    theirs = Path(shutil.copy(foreign, hooks / f"libdhcp_lwm2m-kea-{version}.so"))
    store = suite.write_store(tmp_path / "store")
    body = suite.body(family, ours, store)
    fixtures = lwm2m_fixtures(family)

    with lab.Lab() as net, lab.KeaServer(net, family, body, hooks_dir=hooks) as kea:
        replies = net.exchange([fx.frame() for fx in fixtures])
        for fx in fixtures:
            suite.check(fx, replies)

        mark = len(kea.log())
        answer = kea.config_set(suite.body(family, theirs, store))
        assert answer.get("result") == 1, answer
        assert refusal(kea.log()[mark:], theirs), kea.output_tail()
        assert kea.alive(), f"Kea died: {kea.proc.returncode}\n{kea.output_tail()}"
        # The refused library was only validated (opened and closed), never loaded.
        assert f"HOOKS_LIBRARY_LOADED hooks library {theirs}" not in kea.log()
        replies = net.exchange([fx.frame() for fx in fixtures], timeout=1.5)
        if KEA.at_least("2.6"):
            # 2.6/3.0 close the DHCP sockets only once the new configuration
            # parsed (src/bin/dhcp4/json_config_parser.cc, configureDhcp4Server,
            # Kea-2.6.3 and Kea-3.0.4; dhcp6 alike): the old one serves on.
            for fx in fixtures:
                suite.check(fx, replies)
        else:
            # 2.2 closes them before parsing (json_config_parser.cc,
            # configureDhcp4Server, Kea-2.2.0; DHCPn_CONFIG_UNRECOVERABLE_ERROR)
            # and reopens them with the next good configuration: no answer.
            assert all(not got for got in replies.values()), \
                {hex(x): [lab.describe(lab.decode(f)) for f in got] for x, got in replies.items()}

        answer = kea.config_reload()
        assert answer.get("result") == 0, answer
        replies = net.exchange([fx.frame() for fx in fixtures])
        for fx in fixtures:
            suite.check(fx, replies)
        assert kea.alive()


CALLOUT_FAILURES = ("LWM2M_CALLOUT_FAILED", "HOOKS_CALLOUT_EXCEPTION", "bad_any_cast")


def registered_callouts(kea_log: str, hook: Path) -> set[str]:
    """Hook points `hook` registered standard callouts on (Kea logs each at
    debug level as HOOKS_STD_CALLOUT_REGISTERED, the same id and text in
    src/lib/hooks/hooks_messages.mes of Kea-2.2.0, Kea-2.6.3 and Kea-3.0.4)."""
    rx = re.compile(rf"HOOKS_STD_CALLOUT_REGISTERED hooks library {re.escape(str(hook))} "
                    r"registered standard callout for hook (\S+) at address")
    return set(rx.findall(kea_log))


@pytest.mark.parametrize("family", [4, 6])
def test_subnet_argument_is_read_with_the_right_type(family, hook, suite, kea_factory, tmp_path):
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(family, suite.body(family, hook, store))
    fixtures = lwm2m_fixtures(family)
    # Every kind of query, DHCPINFORM / INFORMATION-REQUEST included.
    assert {lab.decode(fx.frame()).msg_type for fx in fixtures} >= ({1, 3, 8} if family == 4 else {1, 3, 11})
    replies = net.exchange([fx.frame() for fx in fixtures])
    uri_code = lab.DEFAULT_CODES[family][0]
    served = 0
    for fx in fixtures:
        _, reply = suite.check(fx, replies)
        served += reply.value(uri_code) is not None
    assert served, "no reply carried the bootstrap URI"

    log = kea.log()
    for bad in CALLOUT_FAILURES:
        assert bad not in log, [line for line in log.splitlines() if bad in line][:5]
    callouts = registered_callouts(log, hook)
    assert f"pkt{family}_send" in callouts, sorted(callouts)
    select = f"subnet{family}_select"
    if KEA.at_least("2.6") and family == 6:
        # Kea 2.6/3.0 pass the selected subnet to pkt6_send as "subnet6"
        # (src/bin/dhcp6/dhcp6_srv.cc, Kea-2.6.3 and Kea-3.0.4), so the hook
        # needs no subnet6_select callout there.
        assert select not in callouts, sorted(callouts)
    else:
        # Kea 2.2 gives pkt4_send/pkt6_send no subnet (dhcp4_srv.cc,
        # dhcp6_srv.cc, Kea-2.2.0): the hook learns it in subnetX_select.
        # 2.6/3.0 pass "subnet4" to pkt4_send, but an empty one for a
        # DHCPINFORM reply (Dhcpv4Srv::processInform never hands the packet's
        # context back; dhcp4_srv.cc, Kea-2.6.3 and Kea-3.0.4), so
        # subnet4_select stays registered there too (CShim/kea_compat.h).
        assert select in callouts, sorted(callouts)
