"""Shared pytest fixtures of the replay suite.

The suite's store (see `Suite`):

    subnet A  192.0.2.0/24, 2001:db8:1::/64 -> URIS["A"] + large.pem (RSA, ~870 B DER)
    subnet B  subnet-id 2 (v4 198.51.100.0/24), 2001:db8:2::/64
                                            -> URIS["B"] + small.pem (EC, ~265 B DER)
    subnet C  203.0.113.0/24, 2001:db8:3::/64 -> no entry

Tests that need the hook skip when it is not built yet, unless
KEA_LWM2M_REQUIRE_HOOK=1 (then they fail).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

import lwm2mlab as lab
import make_fixtures as mf

HERE = Path(__file__).resolve().parent

DATA = HERE / "data"
URIS = {"A": "coaps://bs-a.example.com:5684", "B": "coap://[2001:db8::b]:5683"}
CERT_OF = {"A": "large", "B": "small"}

# Reply message type for each query type (DHCPv4 option 53 / DHCPv6 msg-type).
REPLY_TYPE = {4: {1: 2, 3: 5, 8: 5}, 6: {1: 2, 3: 7, 5: 7, 6: 7, 11: 7}}


def pytest_collection_modifyitems(config, items):
    """Everything but the offline fixture checks needs root (namespaces)."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root: creates network namespaces")
    for item in items:
        if item.module.__name__ != "test_fixtures":
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _stale_namespaces():
    """Remove namespaces left behind by earlier, killed runs."""
    if os.geteuid() == 0:
        lab.remove_stale_namespaces()
    yield


def _sanitizer_reports() -> set[Path]:
    folder = os.environ.get("KEA_LWM2M_SANITIZER_LOGS")
    return set(Path(folder).glob("*")) if folder and Path(folder).is_dir() else set()


def _report_text(paths) -> str:
    return "\n".join(f"--- {p}\n{p.read_text(errors='replace')[:4000]}" for p in sorted(paths))


@pytest.fixture(autouse=True)
def _no_sanitizer_report():
    """With KEA_LWM2M_SANITIZER_LOGS (make replay-test-asan: the folder of the
    sanitizers' log_path), a report written during a test fails that test."""
    before = _sanitizer_reports()
    yield
    new = _sanitizer_reports() - before
    if new:
        pytest.fail("sanitizer report(s) from Kea with the hook:\n" + _report_text(new))


@pytest.fixture(scope="session", autouse=True)
def _no_sanitizer_report_at_exit():
    """Reports written while module fixtures stop Kea fail the run as well."""
    before = _sanitizer_reports()
    yield
    new = _sanitizer_reports() - before
    if new:
        pytest.fail("sanitizer report(s) from Kea with the hook:\n" + _report_text(new))


@pytest.fixture(scope="session")
def hook() -> Path:
    """Path of the built hook; skips (or fails, KEA_LWM2M_REQUIRE_HOOK=1) if absent."""
    path = lab.hook_path()
    if not path.is_file():
        msg = f"hook not built: {path} (set KEA_LWM2M_HOOK or build the package)"
        if os.environ.get("KEA_LWM2M_REQUIRE_HOOK") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@dataclasses.dataclass(frozen=True)
class Cert:
    """A test certificate: its PEM file and its DER bytes (computed here)."""
    pem: Path
    der: bytes


def load_cert(pem: Path) -> Cert:
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    return Cert(pem, cert.public_bytes(Encoding.DER))


class Suite:
    """The suite's store, the expected values, and the reply checks."""

    def __init__(self) -> None:
        self.certs = {name: load_cert(DATA / f"{name}.pem")
                      for name in ("small", "small-compressed", "large", "xlarge")}

    # -- store ------------------------------------------------------------------

    def entry(self, subnet: str) -> lab.Entry | None:
        """What subnet `subnet` ("A"/"B"/"C") must get (same in both families)."""
        if subnet not in URIS:
            return None
        return lab.Entry(URIS[subnet].encode(), self.certs[CERT_OF[subnet]].der)

    def foreign(self, subnet: str) -> list[bytes]:
        """Values of the other subnets, which must never show up."""
        out = []
        for other in URIS:
            if other != subnet:
                e = self.entry(other)
                out += [e.uri, e.cert_der]
        return out

    def write_store(self, directory: Path, large_file: str = "large.pem",
                    uri_a: str | None = None) -> Path:
        """Write the suite store (and its certificates under certs/) into `directory`.

        `large_file` picks the file used for subnet A ("large.pem" or
        "large.der"); `uri_a` overrides subnet A's URI.
        """
        a = {"bootstrap-uri": uri_a or URIS["A"], "server-certificate": f"certs/{large_file}"}
        b = {"bootstrap-uri": URIS["B"], "server-certificate": "certs/small.pem"}
        entries = [
            {"subnet": lab.SUBNETS[4]["A"][0], **a},
            {"subnet": lab.SUBNETS[6]["A"][0], **a},
            {"subnet-id": lab.SUBNETS[4]["B"][1], **b},     # v6 subnet ids differ
            {"subnet": lab.SUBNETS[6]["B"][0], **b},
        ]
        files = {f"certs/{large_file}": DATA / large_file, "certs/small.pem": DATA / "small.pem"}
        return lab.write_store(Path(directory) / "store.json", entries, files)

    @staticmethod
    def body(family: int, hook: Path, store: Path, **params) -> dict:
        """Kea body with the hook loaded on `store`; params are added as given."""
        return lab.base_config(family, hook, {"store-file": str(store), **params})

    # -- checks -----------------------------------------------------------------

    def check(self, fixture: mf.Fixture | None, replies: dict, frame=None,
              subnet: str | None = None, **kwargs) -> tuple[lab.Message, lab.Message]:
        """Assert the one reply to a fixture (or `frame`) is right; return (query, reply).

        Checks: exactly one reply, the expected message type and subnet, and
        lab.lwm2m_problems() empty (kwargs go to it, e.g. codes, default_max,
        entry).  Failure messages carry the decoded reply as evidence.
        """
        frame = frame if frame is not None else fixture.frame()
        subnet = subnet or fixture.subnet
        query = lab.decode(frame)
        got = replies[query.xid]
        assert len(got) == 1, f"{len(got)} replies to xid {query.xid:#x}"
        reply = lab.decode(got[0])
        evidence = lab.describe(reply)
        assert reply.msg_type == REPLY_TYPE[query.family][query.msg_type], evidence
        assert lab.selected_subnet(reply) == subnet, evidence
        kwargs.setdefault("entry", self.entry(subnet))
        entry = kwargs.pop("entry")
        problems = lab.lwm2m_problems(query, reply, entry, foreign=self.foreign(subnet), **kwargs)
        assert not problems, "\n".join(problems) + "\n" + evidence
        return query, reply


def reload_cycle(kea: lab.KeaServer, snapshot, hook: Path | None = None) -> None:
    """config-reload x3 then SIGHUP x3; after each, Kea must be alive, serve
    exactly what `snapshot()` returned before, and hold no more resources.

    Baseline: settled descriptors/threads after the start and one round of
    traffic.  Descriptors must match exactly, except that Kea 2.2 opens one
    more descriptor on its logger lock file lazily (first SIGHUP), so that
    kind may grow by one.  With `hook`, each reload must load it once more.
    """
    before = snapshot()
    base = kea.resources()
    loaded = kea.log().count("HOOKS_LIBRARY_LOADED")
    for i, how in enumerate(["config-reload"] * 3 + ["SIGHUP"] * 3, start=1):
        if how == "config-reload":
            answer = kea.config_reload()
            assert answer.get("result") == 0, f"{how} #{i}: {answer}\n{kea.output_tail()}"
        else:
            assert kea.sighup(), f"{how} #{i} failed:\n{kea.output_tail()}"
        assert kea.alive(), f"Kea died after {how} #{i}:\n{kea.output_tail()}"
        if hook is not None:
            now_loaded = kea.log().count("HOOKS_LIBRARY_LOADED")
            assert now_loaded == loaded + i, f"hook loaded {now_loaded - loaded} times after {i} reloads"
        assert snapshot() == before, f"replies changed after {how} #{i}"
        res = kea.resources()
        assert res.other_fds() == base.other_fds(), f"after {how} #{i}: {res.diff(base)}"
        assert res.lockfile_fds() <= base.lockfile_fds() + 1, f"after {how} #{i}: {res.diff(base)}"
        assert res.threads == base.threads, f"after {how} #{i}: {res.diff(base)}"


def snapshot_of(net: lab.Lab, suite: "Suite", family: int):
    """A function that replays every fixture of `family`, checks each reply
    and returns {fixture: (URI value, certificate value)} for comparison."""
    fixtures = [fx for fx in mf.FIXTURES.values() if fx.family == family]
    uri_code, cert_code = lab.DEFAULT_CODES[family]

    def snapshot() -> dict:
        replies = net.exchange([fx.frame() for fx in fixtures])
        values = {}
        for fx in fixtures:
            _, reply = suite.check(fx, replies)
            values[fx.name] = (reply.value(uri_code), reply.value(cert_code))
        assert any(uri for uri, _ in values.values()), "no LwM2M option served at all"
        return values
    return snapshot


@pytest.fixture(scope="session")
def suite() -> Suite:
    return Suite()


@pytest.fixture
def kea_factory():
    """Start Kea servers in fresh labs: kea_factory(family, body) -> (lab, server).

    Everything started is torn down after the test, also when it fails.
    """
    with contextlib.ExitStack() as stack:
        def start(family: int, body: dict):
            net = stack.enter_context(lab.Lab())
            return net, stack.enter_context(lab.KeaServer(net, family, body))
        yield start


@pytest.fixture(scope="module")
def hooked_servers(hook, suite, tmp_path_factory):
    """One lab with kea-dhcp4 and kea-dhcp6, both with the hook on the suite store
    and default parameters.  Yields (lab, {4: server, 6: server})."""
    store = suite.write_store(tmp_path_factory.mktemp("store"))
    with lab.Lab() as net, \
            lab.KeaServer(net, 4, suite.body(4, hook, store)) as k4, \
            lab.KeaServer(net, 6, suite.body(6, hook, store)) as k6:
        yield net, {4: k4, 6: k6}
