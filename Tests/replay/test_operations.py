"""Operations against real Kea: hot reload of the store and of certificate
files (rename and in-place write), broken stores that change nothing, the
control commands over the unix socket, statistics, reconfiguration with the
watch timer running, and multi-threaded Kea while the store is rewritten."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

import lwm2mlab as lab
import make_fixtures as mf
from conftest import DATA, URIS, reload_cycle, snapshot_of

DEADLINE = 5.0   # the issue: a change is served within 5 s of the write


def fixture(family: int) -> mf.Fixture:
    """Subnet A, asks for both options, room for both."""
    return mf.FIXTURES["v4_discover_mms1500" if family == 4 else "v6_solicit_lwm2m"]


def served(net: lab.Lab, family: int) -> tuple[bytes | None, bytes | None]:
    """(URI, certificate) values of the reply to the subnet-A fixture."""
    fx = fixture(family)
    query = lab.decode(fx.frame())
    got = net.exchange([fx.frame()], timeout=2.0).get(query.xid, [])
    assert len(got) == 1, f"{len(got)} replies"
    reply = lab.decode(got[0])
    uri_code, cert_code = lab.DEFAULT_CODES[family]
    return reply.value(uri_code), reply.value(cert_code)


def wait_served(net: lab.Lab, kea: lab.KeaServer, family: int, uri: str, timeout: float = DEADLINE) -> float:
    """Seconds until the subnet-A reply carries `uri`; fails after `timeout`."""
    start = time.monotonic()
    while True:
        got, _ = served(net, family)
        if got == uri.encode():
            return time.monotonic() - start
        assert kea.alive(), kea.output_tail()
        assert time.monotonic() - start < timeout, f"{uri} not served after {timeout}s (got {got!r})\n{kea.output_tail()}"
        time.sleep(0.2)


def write_by_rename(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    os.replace(tmp, path)


def store_text(uri_a: str, cert_a: str = "certs/large.pem") -> str:
    a = {"bootstrap-uri": uri_a, "server-certificate": cert_a}
    b = {"bootstrap-uri": URIS["B"], "server-certificate": "certs/small.pem"}
    return json.dumps({"entries": [
        {"subnet": lab.SUBNETS[4]["A"][0], **a}, {"subnet": lab.SUBNETS[6]["A"][0], **a},
        {"subnet-id": lab.SUBNETS[4]["B"][1], **b}, {"subnet": lab.SUBNETS[6]["B"][0], **b}]}, indent=2)


@pytest.fixture
def served_store(hook, suite, kea_factory, tmp_path, request):
    """Kea of `request.param` family serving the suite store in tmp_path/store."""
    family = request.param
    folder = tmp_path / "store"
    store = suite.write_store(folder)
    net, kea = kea_factory(family, suite.body(family, hook, store))
    kea.wait_log(r"LWM2M_WATCHING")
    return family, net, kea, store


@pytest.mark.parametrize("served_store", [4, 6], indirect=True, ids=["v4", "v6"])
def test_store_rewritten_by_rename_and_in_place_is_served_without_restart(served_store):
    family, net, kea, store = served_store
    pid = kea.pid
    assert served(net, family)[0] == URIS["A"].encode()

    write_by_rename(store, store_text("coaps://renamed.example:5684"))
    took = wait_served(net, kea, family, "coaps://renamed.example:5684")
    with open(store, "r+") as f:          # in place: same inode, truncated and rewritten
        f.truncate(0)
        f.write(store_text("coaps://in-place.example:5684"))
    took = max(took, wait_served(net, kea, family, "coaps://in-place.example:5684"))
    assert kea.pid == pid and kea.alive()
    assert kea.log().count("LWM2M_RELOADED") >= 2
    assert took < DEADLINE


def _break_half_written(store: Path) -> str:
    store.write_text(store_text("coaps://half.example")[:60])
    return "not valid JSON"


def _break_by_slow_writer(store: Path) -> str:
    """Truncated, then written broken 0.6 s later: a tick may read the empty
    file meanwhile; only what the writer left is reported."""
    store.write_text("")
    time.sleep(0.6)
    store.write_text(store_text("coaps://x.example", cert_a="certs/missing-too.pem"))
    return "missing-too.pem' cannot open: No such file or directory"


def _break_malformed(store: Path) -> str:
    store.write_text('{"entries": [ {"subnet-id": 1,, } ]}')
    return "not valid JSON"


def _break_invalid_entry(store: Path) -> str:
    store.write_text(store_text("http://not-lwm2m.example"))
    return "scheme 'http'"


def _break_missing_certificate(store: Path) -> str:
    store.write_text(store_text("coaps://x.example", cert_a="certs/missing.pem"))
    return "missing.pem' cannot open: No such file or directory"


def _break_unreadable_certificate(store: Path) -> str:
    (store.parent / "certs" / "folder.pem").mkdir(exist_ok=True)   # root reads every file: a folder it cannot
    store.write_text(store_text("coaps://x.example", cert_a="certs/folder.pem"))
    return "folder.pem' is not a regular file"


def _break_private_key(store: Path) -> str:
    key = store.parent / "certs" / "with-key.pem"
    key.write_text((DATA / "small.pem").read_text()
                   + "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n")
    store.write_text(store_text("coaps://x.example", cert_a="certs/with-key.pem"))
    return "holds a private key"


def _break_deleted(store: Path) -> str:
    store.unlink()
    return "cannot open: No such file or directory"


def _break_insecure_file(store: Path) -> str:
    os.chmod(store, 0o666)                     # first, so no poll sees the new text with a safe mode
    store.write_text(store_text("coaps://rogue.example"))
    return "is writable by its group and every other user (mode 0666)"


def _break_insecure_folder(store: Path) -> str:
    os.chmod(store.parent, 0o777)
    store.write_text(store_text("coaps://rogue.example"))
    return "without the sticky bit (mode 0777)"


BROKEN = {
    "half-written": _break_half_written,
    "malformed-json": _break_malformed,
    "slow-writer": _break_by_slow_writer,
    "invalid-entry": _break_invalid_entry,
    "missing-certificate": _break_missing_certificate,
    "unreadable-certificate": _break_unreadable_certificate,
    "private-key": _break_private_key,
    "deleted": _break_deleted,
    "insecure-file": _break_insecure_file,
    "insecure-folder": _break_insecure_folder,
}


@pytest.mark.parametrize("served_store", [4, 6], indirect=True, ids=["v4", "v6"])
def test_broken_stores_change_nothing_and_are_logged_once(served_store):
    """Each broken store: the last good URI stays, Kea lives, lwm2m-reload answers
    1 with the reason, LWM2M_RELOAD_FAILED is logged once despite several ticks
    and the command (and nothing for what a tick read before the writer was
    done: most cases write in place); the fix is picked up."""
    family, net, kea, store = served_store
    good = URIS["A"]
    for n, (case, breaker) in enumerate(BROKEN.items()):
        mark = len(kea.log())
        reason = breaker(store)
        time.sleep(3.5)                                  # several ticks of the 1 s timer
        assert kea.alive(), f"{case}: {kea.output_tail()}"
        assert served(net, family)[0] == good.encode(), f"{case}: old URI not served"
        answer = kea.command("lwm2m-reload")
        assert answer["result"] == 1, f"{case}: {answer}"
        assert reason in answer["text"], f"{case}: {answer['text']!r} lacks {reason!r}"
        failures = [line for line in kea.log()[mark:].splitlines() if "LWM2M_RELOAD_FAILED" in line]
        assert len(failures) == 1, f"{case}: {len(failures)} LWM2M_RELOAD_FAILED lines:\n" + "\n".join(failures)
        assert reason in failures[0] and " ERROR " in failures[0], failures[0]
        status = kea.command("lwm2m-status")["arguments"]
        assert reason in status["last-error"], f"{case}: {status}"

        os.chmod(store.parent, 0o755)                    # fix it
        good = f"coaps://fixed-{n}.example:5684"
        write_by_rename(store, store_text(good))
        os.chmod(store, 0o644)
        wait_served(net, kea, family, good)
        assert kea.command("lwm2m-status")["arguments"]["last-error"] is None


@pytest.mark.parametrize("served_store", [4, 6], indirect=True, ids=["v4", "v6"])
def test_certificate_file_rotated_alone(served_store, suite):
    family, net, kea, store = served_store
    assert served(net, family)[1] == b"\x04" + suite.certs["large"].der
    shutil.copyfile(DATA / "small.pem", store.parent / "certs" / "large.pem")   # in place, same name
    deadline = time.monotonic() + DEADLINE
    while served(net, family)[1] != b"\x04" + suite.certs["small"].der:
        assert time.monotonic() < deadline, f"rotated certificate not served\n{kea.output_tail()}"
        time.sleep(0.2)
    assert served(net, family)[0] == URIS["A"].encode()


def _stat(kea: lab.KeaServer, name: str) -> int:
    answer = kea.command("statistic-get", {"name": name})
    assert answer["result"] == 0, answer
    samples = answer["arguments"].get(name)
    assert samples, f"no statistic {name}: {answer}"
    return samples[0][0]


@pytest.mark.parametrize("served_store", [4, 6], indirect=True, ids=["v4", "v6"])
def test_commands_over_the_control_socket(served_store, suite):
    family, net, kea, store = served_store
    listed = kea.command("list-commands")["arguments"]
    assert {"lwm2m-reload", "lwm2m-status", "lwm2m-explain"} <= set(listed), listed

    answer = kea.command("lwm2m-reload")
    entries = 2 if family == 4 else 3       # v4: subnet A and subnet-id 2; v6: A, subnet-id 2, B
    assert answer == {"result": 0, "text": f"LwM2M store reloaded: {entries} entries", "arguments": {"entries": entries}}

    status = kea.command("lwm2m-status")
    assert status["result"] == 0, status
    args = status["arguments"]
    assert args["store-file"] == str(store)
    assert args["family"] == family
    assert args["entries"] == entries
    assert args["last-error"] is None
    assert args["sha256"] == hashlib.sha256(store.read_bytes()).hexdigest()
    loaded = time.strptime(args["loaded-at"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(time.mktime(loaded) - time.mktime(time.gmtime())) < 120
    assert args["watch-interval"] == 1
    assert args["reload-in-progress"] is False
    certs = {c["file"]: c for c in args["certificates"]}
    large = certs[str(store.parent / "certs" / "large.pem")]
    assert large["sha256-fingerprint"] == ":".join(f"{b:02x}" for b in hashlib.sha256(suite.certs["large"].der).digest())
    from cryptography import x509
    parsed = x509.load_der_x509_certificate(suite.certs["large"].der)
    not_after = getattr(parsed, "not_valid_after_utc", None) or parsed.not_valid_after
    assert large["not-after"] == not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert large["subject"] and large["expired"] is False
    assert set(args["counters"]) == {"uri-sent", "certificate-sent", "certificate-too-big", "uri-too-big",
                                     "reload-ok", "reload-failed"}
    assert args["counters"]["reload-ok"] >= 1

    # lwm2m-explain by subnet id and by address: the bytes are those a reply carries.
    uri, cert = served(net, family)
    sid = lab.SUBNETS[family]["A"][1]
    address = "192.0.2.77" if family == 4 else "2001:db8:1::77"
    for arguments in ({"subnet-id": sid}, {"address": address}):
        answer = kea.command("lwm2m-explain", arguments)
        assert answer["result"] == 0, answer
        a = answer["arguments"]
        assert a["subnet"] == {"id": sid, "prefix": lab.SUBNETS[family]["A"][0], "shared-network": None}
        assert a["entry"]["index"] == (1 if family == 4 else 2)
        assert a["entry"]["bootstrap-uri"] == URIS["A"]
        assert a["entry"]["certificate"]["sha256-fingerprint"] == large["sha256-fingerprint"]
        options = {o["name"]: o for o in a["options"]}
        uri_wire = bytes.fromhex(options["bootstrap-uri"]["wire-hex"])
        cert_wire = bytes.fromhex(options["server-certificate"]["wire-hex"])
        if family == 4:
            assert [v for _, v in lab.tlv4(uri_wire)] == [uri]
            assert b"".join(v for _, v in lab.tlv4(cert_wire)) == cert
            assert a["size-limit"] == 1500
        else:
            assert lab.tlv6(uri_wire) == [(200, uri)] and lab.tlv6(cert_wire) == [(201, cert)]
    none = kea.command("lwm2m-explain", {"subnet-id": lab.SUBNETS[family]["C"][1]})
    assert none["result"] == 3 and none["arguments"]["entry"] is None, none
    for bad, why in (({}, "give 'subnet-id' or 'address'"), ({"subnet-id": 999}, "no subnet with id 999"),
                     ({"address": "10.9.9.9" if family == 4 else "2001:db8:9::9"}, "would be selected"),
                     ({"address": "2001:db8:1::5" if family == 4 else "192.0.2.5"}, "ask kea-dhcp"),
                     ({"subnet-id": 1, "colour": 1}, "unknown argument 'colour'")):
        answer = kea.command("lwm2m-explain", bad)
        assert answer["result"] == 1 and why in answer["text"], (bad, answer)
    assert kea.command("lwm2m-explain")["result"] == 1


@pytest.mark.parametrize("served_store", [4, 6], indirect=True, ids=["v4", "v6"])
def test_statistics_read_back_with_statistic_get(served_store):
    family, net, kea, store = served_store
    sid = lab.SUBNETS[family]["A"][1]
    names = ["lwm2m-uri-sent", "lwm2m-certificate-sent", "lwm2m-certificate-too-big", "lwm2m-uri-too-big",
             "lwm2m-reload-ok", "lwm2m-reload-failed", f"subnet[{sid}].lwm2m-uri-sent",
             f"subnet[{sid}].lwm2m-certificate-sent", f"subnet[{sid}].lwm2m-certificate-too-big"]
    before = {n: _stat(kea, n) for n in names}
    frames = [fixture(family).frame() for _ in range(1)]
    for _ in range(5):
        net.exchange(frames, timeout=2.0)
    if family == 4:
        net.exchange([mf.FIXTURES["v4_discover_mms576"].frame()], timeout=2.0)   # certificate left out
    assert kea.command("lwm2m-reload")["result"] == 0
    time.sleep(1.5)                                   # one tick flushes the counts
    after = {n: _stat(kea, n) for n in names}
    assert after["lwm2m-uri-sent"] - before["lwm2m-uri-sent"] == (6 if family == 4 else 5)
    assert after["lwm2m-certificate-sent"] - before["lwm2m-certificate-sent"] == 5
    assert after[f"subnet[{sid}].lwm2m-uri-sent"] - before[f"subnet[{sid}].lwm2m-uri-sent"] == (6 if family == 4 else 5)
    assert after[f"subnet[{sid}].lwm2m-certificate-sent"] - before[f"subnet[{sid}].lwm2m-certificate-sent"] == 5
    too_big = 1 if family == 4 else 0
    assert after["lwm2m-certificate-too-big"] - before["lwm2m-certificate-too-big"] == too_big
    assert after[f"subnet[{sid}].lwm2m-certificate-too-big"] - before[f"subnet[{sid}].lwm2m-certificate-too-big"] == too_big
    assert after["lwm2m-reload-ok"] - before["lwm2m-reload-ok"] == 1
    assert after["lwm2m-reload-failed"] == before["lwm2m-reload-failed"]
    everything = kea.command("statistic-get-all")["arguments"]
    assert set(names) <= set(everything)
    status = kea.command("lwm2m-status")["arguments"]["counters"]
    assert status["uri-sent"] == after["lwm2m-uri-sent"]


@pytest.mark.parametrize("family", [4, 6])
def test_an_option_the_reply_carries_already_is_neither_duplicated_nor_counted(family, hook, suite, kea_factory,
                                                                              tmp_path):
    """Subnet A also has Kea option-data with the hook's URI code (raw, no
    option-def, which the hook would refuse): the reply carries Kea's value
    once, the hook adds only the certificate, and counts only that."""
    store = suite.write_store(tmp_path)
    body = suite.body(family, hook, store)
    uri_code, cert_code = lab.DEFAULT_CODES[family]
    from_kea = b"coap://from-option-data.example"
    subnet_a = next(s for s in body[f"subnet{family}"] if s["id"] == lab.SUBNETS[family]["A"][1])
    subnet_a["option-data"].append({"code": uri_code, "space": f"dhcp{family}", "csv-format": False,
                                    "always-send": True, "data": from_kea.hex()})
    net, kea = kea_factory(family, body)
    kea.wait_log(r"LWM2M_WATCHING")
    sid = lab.SUBNETS[family]["A"][1]
    names = ["lwm2m-uri-sent", "lwm2m-certificate-sent", f"subnet[{sid}].lwm2m-uri-sent",
             f"subnet[{sid}].lwm2m-certificate-sent"]
    before = {n: _stat(kea, n) for n in names}
    fx = fixture(family)
    query = lab.decode(fx.frame())
    for _ in range(3):
        got = net.exchange([fx.frame()], timeout=2.0).get(query.xid, [])
        assert len(got) == 1, f"{len(got)} replies"
        reply = lab.decode(got[0])
        assert reply.values(uri_code) == [from_kea], lab.describe(reply)
        assert reply.value(cert_code) == suite.entry("A").cert_value, lab.describe(reply)
    time.sleep(1.5)                                   # one tick flushes the counts
    after = {n: _stat(kea, n) for n in names}
    assert after["lwm2m-uri-sent"] == before["lwm2m-uri-sent"]
    assert after[f"subnet[{sid}].lwm2m-uri-sent"] == before[f"subnet[{sid}].lwm2m-uri-sent"]
    assert after["lwm2m-certificate-sent"] - before["lwm2m-certificate-sent"] == 3
    assert after[f"subnet[{sid}].lwm2m-certificate-sent"] - before[f"subnet[{sid}].lwm2m-certificate-sent"] == 3


@pytest.mark.parametrize("family", [4, 6])
def test_reconfigurations_with_the_timer_running(family, hook, suite, kea_factory, tmp_path):
    """config-reload x3 and SIGHUP x3 with the watch timer on: same replies, no
    descriptor or thread growth; the timer still picks up a change afterwards,
    and exactly one timer runs (one LWM2M_RELOADED per change)."""
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(family, suite.body(family, hook, store))
    reload_cycle(kea, snapshot_of(net, suite, family), hook=hook)
    assert kea.log().count("LWM2M_WATCHING") == 7
    assert kea.command("lwm2m-status")["result"] == 0          # commands registered again by each load()
    assert {"lwm2m-reload", "lwm2m-status", "lwm2m-explain"} <= set(kea.command("list-commands")["arguments"])
    mark = len(kea.log())
    write_by_rename(store, store_text("coaps://after-reconfig.example"))
    wait_served(net, kea, family, "coaps://after-reconfig.example")
    time.sleep(2.5)
    assert kea.log()[mark:].count("LWM2M_RELOADED") == 1


def large_store_text(uri_a: str, filler: int) -> str:
    """store_text plus `filler` entries for /28s in 172.16.0.0/12 (no Kea
    subnet there): big enough that reading it takes a good part of a second."""
    data = json.loads(store_text(uri_a))
    data["entries"] += [{"subnet": f"172.{16 + (i >> 12)}.{(i >> 4) & 255}.{(i & 15) << 4}/28",
                         "bootstrap-uri": f"coap://filler-{i}.example"} for i in range(filler)]
    return json.dumps(data)


def test_reconfiguration_while_a_large_store_is_being_read(hook, suite, kea_factory, tmp_path):
    """A changed store is read on a thread of the hook's own. Kea reconfigured
    (config-reload, SIGHUP) while that thread reads 60,000 entries (seen in
    lwm2m-status): unload() waits for it, Kea stays up, serves the last
    version written, and keeps no extra thread or descriptor."""
    store = suite.write_store(tmp_path)
    write_by_rename(store, large_store_text(URIS["A"], 60_000))
    net, kea = kea_factory(4, suite.body(4, hook, store))
    kea.wait_log(r"LWM2M_WATCHING")
    assert served(net, 4)[0] == URIS["A"].encode()
    base = kea.resources()
    caught = 0
    for n, how in enumerate(["config-reload", "SIGHUP"] * 3):
        uri = f"coaps://large-{n}.example"
        write_by_rename(store, large_store_text(uri, 60_000))
        # Reconfigure as soon as the hook reports the read under way (the
        # control channel is served by the main loop while the read runs).
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if kea.command("lwm2m-status")["arguments"]["reload-in-progress"]:
                caught += 1
                break
            time.sleep(0.01)
        if how == "SIGHUP":
            assert kea.sighup(), kea.output_tail()
        else:
            assert kea.config_reload().get("result") == 0, kea.output_tail()
        assert kea.alive(), kea.output_tail()
        wait_served(net, kea, 4, uri)
    assert caught >= 3, f"a reload was under way at only {caught} of 6 reconfigurations"
    res = kea.resources()
    assert res.threads == base.threads, res.diff(base)
    assert res.other_fds() == base.other_fds(), res.diff(base)
    for bad in ("LWM2M_CALLOUT_FAILED", "LWM2M_OPERATION_FAILED", "LWM2M_RELOAD_FAILED", "LWM2M_STORE_LOAD_FAILED"):
        assert bad not in kea.log(), bad


def test_watch_interval_zero_turns_hot_reload_off(hook, suite, kea_factory, tmp_path):
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(4, suite.body(4, hook, store, **{"watch-interval": 0}))
    write_by_rename(store, store_text("coaps://not-watched.example"))
    time.sleep(2.5)
    assert served(net, 4)[0] == URIS["A"].encode()
    assert "LWM2M_WATCHING" not in kea.log()
    assert kea.command("lwm2m-reload")["result"] == 0
    assert served(net, 4)[0] == b"coaps://not-watched.example"


@pytest.mark.parametrize("family", [4, 6])
def test_multithreaded_kea_serves_while_the_store_is_rewritten(family, hook, suite, kea_factory, tmp_path):
    """Kea with 4 packet threads answers bursts of queries while the store is
    rewritten over and over: every reply carries one complete URI of a store
    version, never anything else, and Kea stays up."""
    store = suite.write_store(tmp_path)
    body = suite.body(family, hook, store)
    body["multi-threading"] = {"enable-multi-threading": True, "thread-pool-size": 4, "packet-queue-size": 64}
    net, kea = kea_factory(family, body)
    kea.wait_log(r"LWM2M_WATCHING")
    versions = {URIS["A"].encode()}
    stop = threading.Event()

    def rewrite():
        n = 0
        while not stop.is_set():
            uri = f"coaps://v{n}.example:5684"
            versions.add(uri.encode())
            (write_by_rename if n % 2 else lambda p, t: p.write_text(t))(store, store_text(uri))
            n += 1
            time.sleep(0.3)

    writer = threading.Thread(target=rewrite)
    writer.start()
    seen = set()
    try:
        for burst in range(12):
            if family == 4:
                frames = [mf.dhcp4_query("discover", 100 + i, mf.PRL_BASE + list(mf.LWM2M4), max_size=1500)
                          for i in range(40)]
            else:
                frames = [mf.dhcp6_query("solicit", 100 + i, mf.ORO_BASE + list(mf.LWM2M6)) for i in range(40)]
            replies = net.exchange(frames, timeout=3.0)
            uri_code = lab.DEFAULT_CODES[family][0]
            for xid, got in replies.items():
                for frame in got:
                    value = lab.decode(frame).value(uri_code)
                    assert value in versions, f"reply with URI {value!r}, not a store version"
                    seen.add(value)
            assert kea.alive(), kea.output_tail()
    finally:
        stop.set()
        writer.join()
    assert len(seen) >= 2, f"only {seen} served while the store changed"
    assert kea.alive()
    assert "LWM2M_CALLOUT_FAILED" not in kea.log()


def test_insecure_store_at_start_is_refused_then_picked_up_when_fixed(hook, suite, kea_factory, tmp_path):
    """A store others can write is refused at load() like any broken store: Kea
    starts, serves no LwM2M options and says why; the chmod is picked up."""
    store = suite.write_store(tmp_path / "store")
    os.chmod(store, 0o664)
    net, kea = kea_factory(4, suite.body(4, hook, store))
    kea.wait_log(r"LWM2M_WATCHING")
    refused = [line for line in kea.log().splitlines() if "LWM2M_STORE_LOAD_FAILED" in line]
    assert len(refused) == 1 and "is writable by its group (mode 0664)" in refused[0], refused
    assert served(net, 4) == (None, None)
    os.chmod(store, 0o644)
    wait_served(net, kea, 4, URIS["A"])


def _certificate(path: Path, days_before: int, days_after: int, name: str) -> bytes:
    """A self-signed EC certificate valid from now-days_before to now+days_after (PEM at path); its DER."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=days_before))
            .not_valid_after(now + datetime.timedelta(days=days_after))
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert.public_bytes(serialization.Encoding.DER)


def test_expired_certificate_is_served_and_logged(hook, suite, kea_factory, tmp_path):
    folder = tmp_path / "store"
    (folder / "certs").mkdir(parents=True)
    expired = _certificate(folder / "certs" / "expired.pem", 400, -1, "expired.example")
    soon = _certificate(folder / "certs" / "soon.pem", 10, 10, "soon.example")
    store = folder / "store.json"
    store.write_text(json.dumps({"entries": [
        {"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": URIS["A"], "server-certificate": "certs/expired.pem"},
        {"subnet-id": lab.SUBNETS[4]["B"][1], "bootstrap-uri": URIS["B"], "server-certificate": "certs/soon.pem"}]}))
    net, kea = kea_factory(4, suite.body(4, hook, store))
    line = kea.wait_log(r".*LWM2M_CERTIFICATE_EXPIRED .*").group(0)
    assert " ERROR " in line and "expired.example" in line and "still served" in line, line
    line = kea.wait_log(r".*LWM2M_CERTIFICATE_EXPIRES_SOON .*").group(0)
    assert " WARN " in line and "soon.example" in line and ", in 9 days" in line, line
    assert served(net, 4) == (URIS["A"].encode(), b"\x04" + expired)
    status = kea.command("lwm2m-status")["arguments"]
    assert {c["subject"]: c["expired"] for c in status["certificates"]} == {"CN=expired.example": True,
                                                                            "CN=soon.example": False}
    mark = len(kea.log())
    assert kea.command("lwm2m-reload")["result"] == 0              # logged again at every reload
    assert "LWM2M_CERTIFICATE_EXPIRED" in kea.log()[mark:]
