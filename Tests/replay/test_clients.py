"""Real DHCP clients as the device: what they receive from Kea with the hook.

Each test runs one real client in the lab's client namespace against
kea-dhcp4 / kea-dhcp6 with the hook on the suite store (subnet A: the
~870-byte RSA certificate, four RFC 3396 parts in DHCPv4), and asserts what
the client itself reports through its script environment -- never a capture:
the exact URI bytes, the certificate as 0x04 + DER, and nothing when the
codes are not requested.  Where a client cannot get the whole contract, the
test pins exactly what it does get (docs/clients.md explains why):

* busybox udhcpc 1.35.0 always announces option 57 = 576 (``-x 0x39:05dc``
  only adds a second option 57 after it, and Kea reads the first), so the
  large certificate is left out and the URI still sent.  It does reassemble
  RFC 3396 parts: shown with the suite's small EC certificate (266-byte
  value, two parts) in a reply trimmed to fit 576 bytes.
* dhcpcd 9.4.1 announces 1472 (MTU - 28) and gets everything, but the
  875-byte certificate declared ``binhex`` is dropped from the environment
  ("dhcp_envoption 225: No buffer space available"; its source formats
  binhex/string values into a 1024-character buffer); ``array byte``
  carries it whole.
* ISC dhclient 4.4.3-P1 sends no option 57 unless configured to, so it gets
  the certificate only with ``send dhcp-max-message-size 1500;`` or the
  hook's ``default-max-message-size``.

(Debian 12's busybox is built without udhcpc6, so it is not tested here.)

The clients keep all their files in a private temporary directory; dhcpcd,
whose run and database directories are compiled in, gets them bind-mounted
over /run and /var/lib/dhcpcd inside the mount namespace that
``ip netns exec`` creates, so nothing reaches the host.  Every client is
stopped by PID and its directory removed when a test ends, also on failure.
Needs root, the hook, busybox, dhcpcd-base and isc-dhcp-client.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import lwm2mlab as lab
from conftest import DATA, URIS, load_cert

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network namespaces")

URI_A = URIS["A"].encode()
CLIENT_TIMEOUT = 15.0

# Script given to every client: records each call's environment, NUL-separated,
# in <event>.env next to itself (udhcpc passes the event as $1, dhcpcd and
# dhclient in $reason).  It configures nothing.
RECORD_SCRIPT = """#!/bin/sh
event=${reason:-${1:-none}}
dir=$(dirname "$0")
/usr/bin/env -0 > "$dir/.$event.env" && mv "$dir/.$event.env" "$dir/$event.env"
exit 0
"""


def _busybox_has(applet: str) -> bool:
    if shutil.which("busybox") is None:
        return False
    out = subprocess.run(["busybox", "--list"], capture_output=True, text=True).stdout
    return applet in out.split()


needs_udhcpc = pytest.mark.skipif(not _busybox_has("udhcpc"),
                                  reason="needs busybox with udhcpc (apt-get install busybox)")
needs_dhcpcd = pytest.mark.skipif(shutil.which("dhcpcd") is None or not Path("/var/lib/dhcpcd").is_dir(),
                                  reason="needs dhcpcd (apt-get install dhcpcd-base)")
needs_dhclient = pytest.mark.skipif(shutil.which("dhclient") is None,
                                    reason="needs dhclient (apt-get install isc-dhcp-client)")


# --------------------------------------------------------------------------
# Running a client
# --------------------------------------------------------------------------

class Client:
    """A real DHCP client run once in the lab's client namespace.

    Its files (recording script, configuration, leases, log) live in a
    private temporary directory; ``close()`` stops the client by PID and
    removes the directory.
    """

    def __init__(self, net: lab.Lab, name: str) -> None:
        self.net, self.name = net, name
        self.dir = Path(tempfile.mkdtemp(prefix=f"lwm2m-{name}-"))
        self.script = self.dir / "record.sh"
        self.script.write_text(RECORD_SCRIPT)
        self.script.chmod(0o755)
        self.log = self.dir / "client.log"
        self.proc: subprocess.Popen | None = None

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text)
        return path

    def events(self) -> dict[str, dict[str, str]]:
        """{event: environment} of every recorded script call (last call per event)."""
        out = {}
        for path in self.dir.glob("[!.]*.env"):     # not the half-written .<event>.env
            env = {}
            for item in path.read_bytes().split(b"\0"):
                name, sep, value = item.decode(errors="surrogateescape").partition("=")
                if sep:
                    env[name] = value
            out[path.stem] = env
        return out

    def run(self, argv: list[str], done: str, exits: bool = True,
            timeout: float = CLIENT_TIMEOUT) -> dict[str, str]:
        """Run `argv` in the client namespace until the script has recorded
        event `done`; return that call's environment.

        A client that `exits` by itself after the exchange (udhcpc -q,
        dhcpcd -1) is given a moment to do so; then it is stopped in any case.
        """
        with open(self.log, "wb") as log:
            # `ip netns exec` execs the client in place: proc.pid is the client's
            # (or the shell's that execs it).  Own session: one process group.
            self.proc = subprocess.Popen(["ip", "netns", "exec", self.net.cli_ns, *argv],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while done not in self.events() and self.proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2 if exits and done in self.events() else 0)
        self.stop()
        events = self.events()
        assert done in events, (f"{self.name}: no {done!r} script call in {timeout:.0f} s "
                                f"(got {sorted(events)}); log:\n{self.output()}")
        return events[done]

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """Stop the client by PID (SIGTERM, then SIGKILL), then anything left
        in its process group (dhcpcd's privilege-separation helpers)."""
        if self.proc is None:
            return
        lab.stop_process(self.proc)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def client_factory():
    """client_factory(net, name) -> Client; every client is stopped and its
    files removed after the test, also when it fails.  Afterwards the
    client namespace must hold no process (nothing escaped the stop)."""
    clients: list[Client] = []

    def make(net: lab.Lab, name: str) -> Client:
        client = Client(net, name)
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()
    leftovers = []
    for ns in {client.net.cli_ns for client in clients}:
        deadline = time.monotonic() + 3   # SIGKILLed helpers may take a moment to go
        while (pids := live_pids(ns)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in pids:                  # only our clients run in this namespace
            leftovers.append(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"client processes survived their stop: {leftovers}"


def live_pids(netns: str) -> list[int]:
    """Processes in a network namespace, zombies left out (dhcpcd's helpers,
    reparented to PID 1 when dhcpcd exits, are dead but may wait a while
    there to be reaped)."""
    pids = []
    for pid in lab.sh("ip", "netns", "pids", netns, check=False).stdout.split():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rpartition(")")[2].split()[0] != "Z":
            pids.append(int(pid))
    return pids


@pytest.fixture(scope="module")
def certs():
    return {name: load_cert(DATA / f"{name}.pem").der for name in ("large", "small")}


def kea_log_since(kea: lab.KeaServer, mark: int) -> str:
    return kea.log()[mark:]


def cert_too_big(log: str, limit: int) -> bool:
    """The hook logged that it left the certificate out at this limit."""
    return re.search(rf"LWM2M_CERTIFICATE_TOO_BIG .*limit of {limit} octets", log) is not None


def decimals(value: str) -> bytes:
    """dhcpcd `array byte` / dhclient `array of unsigned integer 8`: "4 48 130 ..."."""
    return bytes(int(n) for n in value.split())


# --------------------------------------------------------------------------
# busybox udhcpc (DHCPv4)
# --------------------------------------------------------------------------

def udhcpc_argv(client: Client, *extra: str) -> list[str]:
    return ["busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1",
            "-i", lab.CLIENT_IF, "-s", str(client.script), *extra]


@needs_udhcpc
@pytest.mark.parametrize("option57", [[], ["-x", "0x39:05dc"]], ids=["default", "x-57-1500"])
def test_udhcpc_gets_uri_certificate_left_out(option57, hooked_servers, client_factory):
    """udhcpc -O 224 -O 225: opt224 is the URI (hex); no opt225, because udhcpc
    announces option 57 = 576 -- also with -x 0x39:05dc, which only adds a
    second option 57 after its own -- and 875 bytes of certificate do not fit."""
    net, servers = hooked_servers
    mark = len(servers[4].log())
    client = client_factory(net, "udhcpc")
    env = client.run(udhcpc_argv(client, "-O", "224", "-O", "225", *option57), "bound")
    assert env.get("domain") == lab.subnet_marker("A"), env
    assert bytes.fromhex(env["opt224"]) == URI_A
    assert "opt225" not in env, f"opt225 = {env['opt225'][:40]}..."
    assert cert_too_big(kea_log_since(servers[4], mark), 576), \
        "the hook did not log leaving the certificate out at 576 octets"


@needs_udhcpc
def test_udhcpc_not_requested(hooked_servers, client_factory):
    """Without -O 224/-O 225 udhcpc receives neither option."""
    net, _ = hooked_servers
    client = client_factory(net, "udhcpc")
    env = client.run(udhcpc_argv(client), "bound")
    assert env.get("domain") == lab.subnet_marker("A"), env
    assert not {"opt224", "opt225"} & env.keys(), env


@needs_udhcpc
def test_udhcpc_reassembles_split_certificate(hook, suite, certs, kea_factory, client_factory):
    """udhcpc joins RFC 3396 parts: the small EC certificate (266-byte value,
    sent as 255 + 11) arrives whole in opt225.

    It only fits udhcpc's 576 bytes when nothing else is spare: subnet A gets
    small.pem, Kea sends no T1/T2, udhcpc sends no client id (-C) and asks
    for option 225 alone (with the URI too, the hook would rightly leave the
    certificate out)."""
    store_dir = Path(tempfile.mkdtemp(prefix="lwm2m-udhcpc-store-"))
    try:
        store = lab.write_store(store_dir / "store.json", [
            {"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": URIS["A"],
             "server-certificate": "certs/small.pem"}], {"certs/small.pem": DATA / "small.pem"})
        body = suite.body(4, hook, store)
        del body["renew-timer"], body["rebind-timer"]
        net, _ = kea_factory(4, body)
        client = client_factory(net, "udhcpc")
        env = client.run(udhcpc_argv(client, "-C", "-O", "225"), "bound")
    finally:
        shutil.rmtree(store_dir, ignore_errors=True)
    want = b"\x04" + certs["small"]
    assert len(want) > 255
    assert "opt225" in env, f"no opt225; udhcpc log:\n{client.output()}"
    assert bytes.fromhex(env["opt225"]) == want
    assert "opt224" not in env


# --------------------------------------------------------------------------
# dhcpcd (DHCPv4 and DHCPv6)
# --------------------------------------------------------------------------

DHCPCD_DIRS = (Path("/run/dhcpcd"), Path("/var/lib/dhcpcd"))

# dhcpcd.conf lines for the LwM2M options.  `binhex` for the URI; `array byte`
# for the certificate ("4 48 130 ..."), as binhex values over 511 bytes do
# not fit dhcpcd's formatting buffer.
LWM2M4 = """define 224 binhex lwm2m_uri
define 225 {cert_type} lwm2m_cert
"""
LWM2M6 = """define6 200 binhex lwm2m_uri
define6 201 {cert_type} lwm2m_cert
"""
REQUEST4 = "option lwm2m_uri, lwm2m_cert\n"
REQUEST6 = "option dhcp6_lwm2m_uri, dhcp6_lwm2m_cert\n"


def host_dhcpcd_state() -> dict[Path, list[str] | None]:
    return {d: sorted(os.listdir(d)) if d.is_dir() else None for d in DHCPCD_DIRS}


def run_dhcpcd(client: Client, family: int, conf: str, done: str) -> dict[str, str]:
    """dhcpcd -4/-6 once (--oneshot --nobackground --noconfigure) with `conf`.

    Its compiled-in run and database directories (/run/dhcpcd,
    /var/lib/dhcpcd) are the client's own: bind mounts in the private mount
    namespace of `ip netns exec`, which end with it.
    """
    run_dir, db_dir = client.dir / "run", client.dir / "db"
    run_dir.mkdir()
    db_dir.mkdir()
    config = client.write("dhcpcd.conf", conf)
    before = host_dhcpcd_state()
    argv = ["sh", "-c", 'mount --bind "$1" /run && mount --bind "$2" /var/lib/dhcpcd '
            '&& shift 2 && exec "$@"', "sh", str(run_dir), str(db_dir),
            "dhcpcd", "--config", str(config), "--script", str(client.script), f"-{family}",
            "--oneshot", "--nobackground", "--noconfigure", "--timeout", "10", lab.CLIENT_IF]
    try:
        return client.run(argv, done)
    finally:
        assert host_dhcpcd_state() == before, "dhcpcd touched the host's run/db directories"


def dhcpcd4_conf(request: bool = True, cert_type: str = "array byte") -> str:
    return ("nodev\nnodelay\nnoarp\nnoipv4ll\n" + LWM2M4.format(cert_type=cert_type)
            + (REQUEST4 if request else ""))


def dhcpcd6_conf(mode: str, request: bool = True) -> str:
    return (f"nodev\nnodelay\nnoipv6rs\n{mode}\noption dhcp6_domain_search\n"
            + LWM2M6.format(cert_type="array byte") + (REQUEST6 if request else ""))


@needs_dhcpcd
def test_dhcpcd4(hooked_servers, certs, client_factory):
    """dhcpcd -4 announces option 57 = MTU - 28 (1472 here), so the whole
    certificate fits; it joins the four RFC 3396 parts."""
    net, servers = hooked_servers
    mark = len(servers[4].log())
    client = client_factory(net, "dhcpcd4")
    env = run_dhcpcd(client, 4, dhcpcd4_conf(), "BOUND")
    assert env.get("new_domain_name") == lab.subnet_marker("A"), env
    assert bytes.fromhex(env["new_lwm2m_uri"]) == URI_A
    assert "new_lwm2m_cert" in env, f"no certificate; dhcpcd log:\n{client.output()}"
    assert decimals(env["new_lwm2m_cert"]) == b"\x04" + certs["large"]
    assert not cert_too_big(kea_log_since(servers[4], mark), 1472)


@needs_dhcpcd
def test_dhcpcd4_binhex_certificate_is_dropped(hooked_servers, client_factory):
    """Declared `binhex`, the 875-byte certificate is too long for dhcpcd's
    1024-character buffer: the variable is missing and dhcpcd logs ENOBUFS;
    the URI still arrives."""
    net, _ = hooked_servers
    client = client_factory(net, "dhcpcd4")
    env = run_dhcpcd(client, 4, dhcpcd4_conf(cert_type="binhex"), "BOUND")
    assert bytes.fromhex(env["new_lwm2m_uri"]) == URI_A
    assert "new_lwm2m_cert" not in env
    assert "dhcp_envoption 225: No buffer space available" in client.output()


@needs_dhcpcd
def test_dhcpcd4_not_requested(hooked_servers, client_factory):
    """Options defined but not requested (no `option` line): nothing arrives."""
    net, _ = hooked_servers
    client = client_factory(net, "dhcpcd4")
    env = run_dhcpcd(client, 4, dhcpcd4_conf(request=False), "BOUND")
    assert env.get("new_domain_name") == lab.subnet_marker("A"), env
    assert not [k for k in env if "lwm2m" in k], env


@needs_dhcpcd
@pytest.mark.parametrize("mode, done", [("ia_na 1", "BOUND6"), ("inform6", "INFORM6")],
                         ids=["solicit", "information-request"])
def test_dhcpcd6(mode, done, hooked_servers, certs, client_factory):
    """dhcpcd -6, by Solicit/Request (ia_na) and by Information-Request
    (inform6), without router advertisements: URI and whole certificate."""
    net, _ = hooked_servers
    client = client_factory(net, "dhcpcd6")
    env = run_dhcpcd(client, 6, dhcpcd6_conf(mode), done)
    assert env.get("new_dhcp6_domain_search") == lab.subnet_marker("A"), env
    assert bytes.fromhex(env["new_dhcp6_lwm2m_uri"]) == URI_A
    assert decimals(env["new_dhcp6_lwm2m_cert"]) == b"\x04" + certs["large"]


@needs_dhcpcd
def test_dhcpcd6_not_requested(hooked_servers, client_factory):
    net, _ = hooked_servers
    client = client_factory(net, "dhcpcd6")
    env = run_dhcpcd(client, 6, dhcpcd6_conf("inform6", request=False), "INFORM6")
    assert env.get("new_dhcp6_domain_search") == lab.subnet_marker("A"), env
    assert not [k for k in env if "lwm2m" in k], env


# --------------------------------------------------------------------------
# ISC dhclient (DHCPv4): option 57 only when configured
# --------------------------------------------------------------------------

def run_dhclient4(client: Client, send57: bool) -> dict[str, str]:
    """dhclient -4 -d -1 with the LwM2M options declared and requested (as in
    scripts/demo.py), with or without `send dhcp-max-message-size 1500;`."""
    conf = client.write("dhclient.conf", "\n".join([
        "option lwm2m-bootstrap-uri code 224 = text;",
        "option lwm2m-server-certificate code 225 = array of unsigned integer 8;",
        "also request lwm2m-bootstrap-uri, lwm2m-server-certificate;",
        "send dhcp-max-message-size 1500;" if send57 else ""]) + "\n")
    env = client.run(["dhclient", "-4", "-d", "-1", "-cf", str(conf), "-sf", str(client.script),
                      "-lf", str(client.dir / "leases"), "-pf", str(client.dir / "dhclient.pid"),
                      lab.CLIENT_IF], "BOUND", exits=False)
    assert env["new_lwm2m_bootstrap_uri"].encode() == URI_A   # plain ASCII: no escapes
    return env


@needs_dhclient
@pytest.mark.parametrize("send57", [False, True], ids=["default", "send-57-1500"])
def test_dhclient4_option57(send57, hooked_servers, certs, client_factory):
    """dhclient sends no option 57 by default: the hook assumes 576 and leaves
    the certificate out.  With `send dhcp-max-message-size 1500;` (as in
    scripts/demo.py) it gets the certificate, reassembled."""
    net, servers = hooked_servers
    mark = len(servers[4].log())
    env = run_dhclient4(client_factory(net, "dhclient"), send57)
    if send57:
        assert decimals(env["new_lwm2m_server_certificate"]) == b"\x04" + certs["large"]
    else:
        assert "new_lwm2m_server_certificate" not in env
        assert cert_too_big(kea_log_since(servers[4], mark), 576)


@needs_dhclient
def test_dhclient4_default_max_message_size(hook, suite, certs, kea_factory, client_factory):
    """The server-side alternative: dhclient as installed (no option 57) gets
    the certificate when the hook's default-max-message-size is 1500."""
    store_dir = Path(tempfile.mkdtemp(prefix="lwm2m-dhclient-store-"))
    try:
        store = suite.write_store(store_dir)
        net, _ = kea_factory(4, suite.body(4, hook, store, **{"default-max-message-size": 1500}))
        env = run_dhclient4(client_factory(net, "dhclient"), send57=False)
    finally:
        shutil.rmtree(store_dir, ignore_errors=True)
    assert decimals(env["new_lwm2m_server_certificate"]) == b"\x04" + certs["large"]


# --------------------------------------------------------------------------
# ISC dhclient and selection: a vendor class picks the entry (v4 and v6)
# --------------------------------------------------------------------------

CAMERA_URI = b"coaps://bs-cams.example.com"


def class_store(directory: Path) -> Path:
    """Subnet entries of the suite (A: large certificate) plus a class entry
    for Kea's built-in class of vendor class "camera", small certificate,
    always-send."""
    entries = [
        {"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": URIS["A"], "server-certificate": "large.pem"},
        {"subnet": lab.SUBNETS[6]["A"][0], "bootstrap-uri": URIS["A"], "server-certificate": "large.pem"},
        {"client-class": "VENDOR_CLASS_camera", "bootstrap-uri": CAMERA_URI.decode(),
         "server-certificate": "small.pem", "always-send": True},
    ]
    return lab.write_store(directory / "store.json", entries,
                           {"large.pem": DATA / "large.pem", "small.pem": DATA / "small.pem"})


@needs_dhclient
@pytest.mark.parametrize("request_codes", [True, False], ids=["requested", "always-send"])
def test_dhclient4_vendor_class_selects_entry(request_codes, hook, suite, certs, kea_factory,
                                              client_factory, tmp_path):
    """dhclient sending vendor-class-identifier "camera" gets the camera
    entry's URI and certificate instead of its subnet's; with always-send
    it gets them even when it does not request the codes."""
    net, _ = kea_factory(4, suite.body(4, hook, class_store(tmp_path)))
    client = client_factory(net, "dhclient")
    conf = client.write("dhclient.conf", "\n".join([
        "option lwm2m-bootstrap-uri code 224 = text;",
        "option lwm2m-server-certificate code 225 = array of unsigned integer 8;",
        "also request lwm2m-bootstrap-uri, lwm2m-server-certificate;" if request_codes else "",
        'send vendor-class-identifier "camera";',
        "send dhcp-max-message-size 1500;"]) + "\n")
    env = client.run(["dhclient", "-4", "-d", "-1", "-cf", str(conf), "-sf", str(client.script),
                      "-lf", str(client.dir / "leases"), "-pf", str(client.dir / "dhclient.pid"),
                      lab.CLIENT_IF], "BOUND", exits=False)
    assert env["new_lwm2m_bootstrap_uri"].encode() == CAMERA_URI, env
    assert decimals(env["new_lwm2m_server_certificate"]) == b"\x04" + certs["small"]


@needs_dhclient
def test_dhclient6_vendor_class_selects_entry(hook, suite, certs, kea_factory, client_factory, tmp_path):
    """dhclient -6 (Solicit/Request) with vendor class "camera" (option 16):
    the camera entry applies; without the vendor class, the subnet's."""
    store = class_store(tmp_path)
    net, _ = kea_factory(6, suite.body(6, hook, store))
    for vendor, uri, cert in ((True, CAMERA_URI, certs["small"]), (False, URI_A, certs["large"])):
        client = client_factory(net, "dhclient6")
        conf = client.write("dhclient6.conf", "\n".join([
            "option dhcp6.lwm2m-bootstrap-uri code 200 = text;",
            "option dhcp6.lwm2m-server-certificate code 201 = array of unsigned integer 8;",
            "also request dhcp6.lwm2m-bootstrap-uri, dhcp6.lwm2m-server-certificate;",
            # dhclient 4.4 defines no DHCPv6 vendor class option: declare option
            # 16 (enterprise number, then one length-prefixed vendor-class-data).
            "option dhcp6.lwm2m-vendor-class code 16 = {integer 32, integer 16, string};",
            'send dhcp6.lwm2m-vendor-class 4491 6 "camera";' if vendor else ""]) + "\n")
        env = client.run(["dhclient", "-6", "-d", "-1", "-cf", str(conf), "-sf", str(client.script),
                          "-lf", str(client.dir / "leases"), "-pf", str(client.dir / "dhclient.pid"),
                          lab.CLIENT_IF], "BOUND6", exits=False)
        assert env["new_dhcp6_lwm2m_bootstrap_uri"].encode() == uri, env
        assert decimals(env["new_dhcp6_lwm2m_server_certificate"]) == b"\x04" + cert
        client.close()
