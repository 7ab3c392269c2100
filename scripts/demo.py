#!/usr/bin/env python3
"""kea-lwm2m demo: a device learns its LwM2M bootstrap server over DHCP.

Run as root, after the hook is built (``make demo`` does both).  The demo

1. builds the test lab (``lwm2mlab/``): a server and a device
   network namespace joined by a veth pair;
2. starts kea-dhcp4 and kea-dhcp6 there with the hook and the example
   configuration in ``kea-config/``, as it is apart from machine-specific
   values (hook and store paths, interface, lease database, logging);
3. runs ISC dhclient as the device, over DHCPv4 and then DHCPv6, asking for
   the LwM2M options (and, over DHCPv4, announcing a 1500-byte option 57 so
   that the certificate fits);
4. prints the bootstrap URI and the certificate (subject, SHA-256) that
   dhclient received, and checks them against ``kea-config/lwm2m-store.json``;
5. lets the device bootstrap (with the hook; ``make device`` builds the
   programs of ``examples/device/``): a bootstrap server answers LwM2M
   Bootstrap-Requests over DTLS in the server namespace, and dhclient's
   script, ``examples/device/lwm2m-dhcp-hook.sh``, runs
   lwm2m-bootstrap-device on what the device received, trusting only that.
   The example's certificate has no private key here (make-demo-cert.sh
   keeps it on the machine that made it), so this step restarts Kea on a
   lab store naming fresh lab identities at the lab's addresses: X.509 over
   DHCPv4 and DHCPv6, a raw public key over DHCPv4 (when the hook's store
   knows ``server-public-key``), and an impostor holding another key for the
   same name, which the device must refuse.

Everything it starts or creates is removed when it ends, also on Ctrl-C.

Exit status: 0 when the device received the configured URI and certificate
over both families and bootstrapped as expected, 1 when anything differs,
is missing or got no answer,
2 when the demo could not run (not root, no hook, Kea did not start, ...),
130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEA_CONFIG = REPO / "kea-config"
STORE_FILE = KEA_CONFIG / "lwm2m-store.json"
HOOK_NAME = "libdhcp_lwm2m.so"

sys.path.insert(0, str(REPO))
import lwm2mlab as lab  # noqa: E402  (the test lab: namespaces, veth, Kea processes)
from lwm2mlab import device as dev  # noqa: E402  (bootstrap server and device)

# The hook's defaults, used when a configuration leaves a parameter out.
DEFAULT_CODES = {4: (224, 225), 6: (200, 201)}
# What the device announces in DHCPv4 option 57 (Maximum DHCP Message Size).
DEVICE_MAX_MESSAGE_SIZE = 1500
DHCLIENT_TIMEOUT = 30.0

URI_OPTION = "lwm2m-bootstrap-uri"
CERT_OPTION = "lwm2m-server-certificate"
CERT_ENCODING_DER = 0x04


class DemoError(Exception):
    """The demo could not run; the message says why (exit status 2)."""


# --------------------------------------------------------------------------
# Configuration: the examples in kea-config/, read as Kea reads them
# --------------------------------------------------------------------------

_JSON_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/|#[^\n]*', re.S)


def strip_json_comments(text: str) -> str:
    """Remove the ``//``, ``/* */`` and ``#`` comments Kea allows in JSON.

    Strings are kept intact, so ``"coaps://..."`` survives.
    """
    return _JSON_COMMENT.sub(lambda m: m.group(1) or "", text)


def read_json(path: Path) -> dict:
    """Parse a JSON file that may carry Kea-style comments."""
    try:
        return json.loads(strip_json_comments(path.read_text()))
    except (OSError, ValueError) as error:
        raise DemoError(f"cannot read {path}: {error}") from error


def read_certificate(path: Path) -> bytes:
    """A certificate file (PEM or DER) as DER bytes."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    x509.load_der_x509_certificate(data)
    return data


@dataclass
class Family:
    """One DHCP family of the demo: its example config and what to expect."""

    number: int            # 4 or 6
    config_file: Path
    body: dict             # the map under "Dhcp4" / "Dhcp6"
    uri_code: int
    cert_code: int
    subnet: dict           # the first subnet of the config
    uri: str               # what the store promises for that subnet
    certificate: bytes | None  # DER

    @property
    def name(self) -> str:
        return f"DHCPv{self.number}"

    @property
    def prefix(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.subnet["subnet"])


def _hook_entry(body: dict, config_file: Path) -> dict:
    for entry in body.get("hooks-libraries", []):
        if Path(entry.get("library", "")).name == HOOK_NAME:
            return entry
    raise DemoError(f"{config_file} loads no {HOOK_NAME} in hooks-libraries")


def _store_entry(store: dict, subnet: dict) -> dict:
    """The entry that applies to a subnet: by prefix, else by id."""
    prefix = ipaddress.ip_network(subnet["subnet"])
    entries = store.get("entries", [])
    for entry in entries:
        if "subnet" in entry and ipaddress.ip_network(entry["subnet"]) == prefix:
            return entry
    for entry in entries:
        if "subnet-id" in entry and entry["subnet-id"] == subnet.get("id"):
            return entry
    raise DemoError(f"{STORE_FILE} has no entry for subnet {prefix} (id {subnet.get('id')})")


def load_family(number: int) -> Family:
    """Read kea-config/kea-dhcpN.conf and the store: what should the device get?"""
    config_file = KEA_CONFIG / f"kea-dhcp{number}.conf"
    body = read_json(config_file).get(f"Dhcp{number}")
    if body is None:
        raise DemoError(f"{config_file} has no Dhcp{number} map")
    params = _hook_entry(body, config_file).get("parameters", {})
    subnets = body.get(f"subnet{number}") or []
    if not subnets:
        raise DemoError(f"{config_file} has no subnet{number}")
    entry = _store_entry(read_json(STORE_FILE), subnets[0])
    certificate = None
    if entry.get("server-certificate"):
        # Relative certificate paths are relative to the store's folder.
        certificate = read_certificate(STORE_FILE.parent / entry["server-certificate"])
    uri_default, cert_default = DEFAULT_CODES[number]
    return Family(
        number=number,
        config_file=config_file,
        body=body,
        uri_code=int(params.get("bootstrap-uri-code", uri_default)),
        cert_code=int(params.get("server-certificate-code", cert_default)),
        subnet=subnets[0],
        uri=entry["bootstrap-uri"],
        certificate=certificate,
    )


def lab_body(family: Family, hook: Path | None) -> dict:
    """The example config made to run in the lab.

    Replaced: the hook's ``library`` and ``store-file`` and the interface of
    subnets that name one.  Removed, so that the lab fills them in with its
    own (private temp dir, the lab's interface): ``interfaces-config``,
    ``lease-database``, ``loggers``.  Without a ``hook``: see
    :func:`serve_without_hook`.
    """
    body = json.loads(json.dumps(family.body))  # deep copy
    entry = _hook_entry(body, family.config_file)
    if hook is None:
        serve_without_hook(family, body, entry)
    else:
        entry["library"] = str(hook)
        entry.setdefault("parameters", {})["store-file"] = str(STORE_FILE)
    for subnet in body[f"subnet{family.number}"]:
        if "interface" in subnet:
            subnet["interface"] = lab.SERVER_IF
    for key in ("interfaces-config", "lease-database", "loggers"):
        body.pop(key, None)
    return body


def serve_without_hook(family: Family, body: dict, hook_entry: dict) -> None:
    """Replace the hook by Kea's own option-def and option-data (``--without-hook``).

    Kea then sends the same values with the same codes and wire format (for
    DHCPv4 split by Kea itself, RFC 3396), only when they are requested.  It
    ignores option 57, which does not matter with the device's 1500.  This
    checks the lab and the device independently of the hook.
    """
    body["hooks-libraries"].remove(hook_entry)
    body.setdefault("option-def", []).extend([
        {"name": URI_OPTION, "code": family.uri_code, "type": "string"},
        {"name": CERT_OPTION, "code": family.cert_code, "type": "binary"},
    ])
    data = [{"name": URI_OPTION, "data": family.uri}]
    if family.certificate is not None:
        data.append({"name": CERT_OPTION, "csv-format": False,
                     "data": f"{CERT_ENCODING_DER:02x}" + family.certificate.hex()})
    body[f"subnet{family.number}"][0].setdefault("option-data", []).extend(data)


def check_lab_fits(family: Family) -> None:
    """The example's first subnet must be the lab's link (192.0.2.0/24, 2001:db8:1::/64)."""
    server = ipaddress.ip_address(lab.SERVER4 if family.number == 4 else lab.SERVER6)
    if server not in family.prefix:
        raise DemoError(f"{family.config_file.name}: subnet {family.prefix} is not the lab's "
                        f"link (the lab's server is {server})")


# --------------------------------------------------------------------------
# The device: ISC dhclient
# --------------------------------------------------------------------------

# dhclient runs this as its -sf script, with reason=PREINIT, BOUND, ... and
# the received options in new_* variables.  It records each call in a file
# named after the reason, next to itself, and configures nothing.
DHCLIENT_SCRIPT = """#!/bin/sh
# dhclient -sf script of the kea-lwm2m demo: record what the device received.
dir=$(dirname "$0")
env | grep -E '^(reason|interface|new_[A-Za-z0-9_]+)=' | sort > "$dir/.$reason.env"
mv "$dir/.$reason.env" "$dir/$reason.env"
exit 0
"""

# Script calls that complete an exchange; the options are in new_*.  A
# stateless dhclient -6 -S reports its Reply as RENEW6.
DONE_REASONS = ("BOUND", "REBOOT", "RENEW", "BOUND6", "REBOOT6", "RENEW6", "INFORM6")


def dhclient_conf(family: Family) -> str:
    """dhclient.conf declaring and requesting our options (v4: and option 57).

    The URI is declared ``text``.  The certificate is declared ``array of
    unsigned integer 8``: dhclient then passes it to the script as decimal
    numbers separated by spaces, which decode the same whatever the bytes.
    (As ``string`` it arrives as colon-separated hex without leading zeros,
    or as plain text when every byte happens to be printable.)
    """
    space = "dhcp6." if family.number == 6 else ""
    lines = [
        f"# dhclient.conf of the kea-lwm2m demo device ({family.name}).",
        f"option {space}{URI_OPTION} code {family.uri_code} = text;",
        f"option {space}{CERT_OPTION} code {family.cert_code} = array of unsigned integer 8;",
        f"also request {space}{URI_OPTION}, {space}{CERT_OPTION};",
    ]
    if family.number == 4:
        lines.append(f"send dhcp-max-message-size {DEVICE_MAX_MESSAGE_SIZE};")
    return "\n".join(lines) + "\n"


def env_name(family: Family, option: str) -> str:
    """The script variable dhclient sets for a received option."""
    prefix = "new_dhcp6_" if family.number == 6 else "new_"
    return prefix + option.replace("-", "_")


def unescape_dhclient_text(value: str) -> bytes:
    r"""Undo dhclient's escaping of ``text`` options (``\$``, ``\\``, ``\351``)."""
    out = bytearray()
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            if re.fullmatch(r"[0-7]{3}", value[i + 1:i + 4]):
                out.append(int(value[i + 1:i + 4], 8))
                i += 4
            else:
                out += value[i + 1].encode()
                i += 2
        else:
            out += value[i].encode()
            i += 1
    return bytes(out)


def decode_byte_array(value: str) -> bytes:
    """An ``array of unsigned integer 8`` as dhclient prints it: ``4 48 130 ...``."""
    return bytes(int(n) for n in value.split())


class Device:
    """ISC dhclient in the lab's client namespace, recording what it receives."""

    def __init__(self, net: lab.Lab, family: Family, workdir: Path, stateless: bool):
        self.net, self.family = net, family
        self.dir = workdir / f"dhclient{family.number}"
        self.dir.mkdir()
        self.log = self.dir / "dhclient.log"
        self.proc: subprocess.Popen | None = None
        (self.dir / "dhclient.conf").write_text(dhclient_conf(family))
        script = self.dir / "record.sh"
        script.write_text(DHCLIENT_SCRIPT)
        script.chmod(0o755)
        self.argv = ["dhclient", f"-{family.number}", "-d", "-1", "-v"]
        if family.number == 6 and stateless:
            self.argv.append("-S")
        self.argv += ["-cf", str(self.dir / "dhclient.conf"), "-sf", str(script),
                      "-lf", str(self.dir / "leases"), "-pf", str(self.dir / "dhclient.pid"),
                      lab.CLIENT_IF]

    def _result(self) -> Path | None:
        return next((self.dir / f"{r}.env" for r in DONE_REASONS
                     if (self.dir / f"{r}.env").exists()), None)

    def run(self, timeout: float = DHCLIENT_TIMEOUT) -> dict[str, str] | None:
        """Run dhclient until it completes an exchange.

        Returns the variables of the completing script call (new_*), or None
        when no exchange completed in time.
        """
        with open(self.log, "wb") as log:
            # `ip netns exec` execs dhclient in place: proc.pid is dhclient's.
            # Own session: a terminal's Ctrl-C reaches the demo, which stops it.
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.net.cli_ns, *self.argv], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while self._result() is None and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        result = self._result()
        self.stop()
        if result is None:
            return None
        env = {}
        for line in result.read_text(errors="replace").splitlines():
            name, _, value = line.partition("=")
            env[name] = value
        return env

    def stop(self) -> None:
        """Stop dhclient by PID (SIGTERM, then SIGKILL)."""
        lab.stop_process(self.proc)


class Sniffer:
    """Frames crossing the device's interface, read from the lab's capture socket."""

    def __init__(self, net: lab.Lab):
        self.sock = net.capture_socket()

    def replies(self) -> list[lab.Message]:
        """The server replies (DHCPOFFER/ACK, Advertise/Reply) captured so far."""
        found = []
        while select.select([self.sock], [], [], 0)[0]:
            data, _ = self.sock.recvfrom(65535)
            frame = lab.Ether(data)
            if lab.reply_xid(frame) is not None:
                found.append(lab.decode(frame))
        return found

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------
# Checking and reporting
# --------------------------------------------------------------------------

def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate, as openssl prints it: ``2E:2D:...``."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def subject(der: bytes) -> str:
    """The certificate's subject, most significant first: ``O=..., CN=...``."""
    from cryptography import x509

    name = x509.load_der_x509_certificate(der).subject
    return ", ".join(f"{a.rfc4514_attribute_name}={a.value}" for a in name)


class Report:
    """Aligned lines, ticked or crossed; counts what did not match."""

    def __init__(self):
        utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
        self.good, self.bad = ("✓", "✗") if utf8 else ("ok", "!!")
        self.failures = 0

    @staticmethod
    def info(label: str, value: str) -> None:
        print(f"    {label:<15}{value}")

    def fail(self, label: str, text: str, details: list[str] = ()) -> None:
        self.failures += 1
        print(f"  {self.bad} {label:<15}{text}")
        for line in details:
            print(f"      {line}")

    def check(self, label: str, got: str | None, want: str) -> None:
        if got == want:
            print(f"  {self.good} {label:<15}{got}")
            return
        self.failures += 1
        print(f"  {self.bad} {label:<15}{got if got is not None else '(nothing)'}")
        print(f"    {'expected':<15}{want}")


def received_certificate(value: str | None) -> tuple[bytes | None, str | None]:
    """The DER from the certificate option's script value, or why there is none."""
    data = decode_byte_array(value) if value else b""
    if not data:
        return None, "(nothing)"
    if data[0] != CERT_ENCODING_DER:
        return None, f"(encoding octet {data[0]:#04x}, expected 0x04 = X.509 DER)"
    try:
        subject(data[1:])
    except ValueError as error:
        return None, f"({len(data) - 1} bytes, not a DER certificate: {error})"
    return data[1:], None


def report_family(family: Family, env: dict[str, str], replies: list[lab.Message],
                  report: Report) -> None:
    """Decode what dhclient received for one family and compare it with the store."""
    report.info("lease", env.get("new_ip_address") or env.get("new_ip6_address")
                or "(none: information only)")

    raw_uri = env.get(env_name(family, URI_OPTION))
    uri = None if raw_uri is None else unescape_dhclient_text(raw_uri).decode("utf-8", "replace")
    report.check("bootstrap URI", uri, family.uri)

    if family.certificate is None:
        report.info("certificate", "(none in the store)")
    else:
        der, problem = received_certificate(env.get(env_name(family, CERT_OPTION)))
        report.check("certificate", subject(der) if der else problem, subject(family.certificate))
        report.check("SHA-256", fingerprint(der) if der else None, fingerprint(family.certificate))

    # The last reply is the one that completed the exchange (ACK / Reply).
    if replies:
        reply = replies[-1]
        parts = [len(value) for code, value in reply.options if code == family.cert_code]
        if len(parts) > 1:
            report.info("on the wire", f"option {family.cert_code} in {len(parts)} parts "
                        f"({'+'.join(map(str, parts))} bytes, RFC 3396)")
        elif parts:
            report.info("on the wire", f"option {family.cert_code}, {parts[0]} bytes")
        size = f"{reply.ip_total_length} bytes"
        if family.number == 4:
            report.info("reply size", f"{size} (device accepts {DEVICE_MAX_MESSAGE_SIZE})")
            if reply.ip_total_length > DEVICE_MAX_MESSAGE_SIZE:
                report.check("reply size", size, f"at most {DEVICE_MAX_MESSAGE_SIZE} bytes")
        else:
            report.info("reply size", size)



# --------------------------------------------------------------------------
# The device bootstraps: DTLS to the delivered URI, pinning what DHCP gave
# --------------------------------------------------------------------------

BOOTSTRAP_PORT = 5684
RPK_PORT = 5685
# The raw-public-key device's DHCPv4 client identifier: the lab store gives
# it the raw-key entry.
RPK_CLIENT_ID = b"lwm2m-rpk-device"


def hook_knows_raw_keys() -> bool:
    """Whether this tree's hook has the store key server-public-key."""
    return any("server-public-key" in path.read_text(errors="replace")
               for path in (REPO / "Sources").rglob("*.swift"))


def bootstrap_devices(families: list[Family], hook: Path, workdir: Path, net: lab.Lab,
                      stack: contextlib.ExitStack, servers: dict, report: Report) -> None:
    """Restart Kea on a lab store naming lab identities; let dhclient's
    device hook bootstrap over X.509 (v4, v6) and a raw key (v4), and
    refuse an impostor."""
    try:
        dev.build_programs()
    except RuntimeError as error:
        raise DemoError(f"{error}\n(apt-get install libcoap3-dev libgnutls28-dev pkg-config)") from error
    folder = workdir / "identities"
    (folder / "certs").mkdir(parents=True)
    org = "Example LwM2M Demo"
    real = dev.Identity.x509(folder, "bs", organization=org)
    impostor = dev.Identity.x509(folder, "impostor", organization=org)
    raw = dev.Identity.raw_key(folder, "bs-rpk") if hook_knows_raw_keys() else None
    uris = {4: f"coaps://{lab.SERVER4}:{BOOTSTRAP_PORT}", 6: f"coaps://[{lab.SERVER6}]:{BOOTSTRAP_PORT}"}
    rpk_uri = f"coaps://{lab.SERVER4}:{RPK_PORT}"
    entries = [{"subnet": str(f.prefix), "bootstrap-uri": uris[f.number],
                "server-certificate": "certs/bs.pem"} for f in families]
    shutil.copyfile(real.presented, folder / "certs" / "bs.pem")
    if raw is not None:
        shutil.copyfile(raw.presented, folder / "certs" / "bs-rpk.pem")
        entries.append({"host": {"client-id": RPK_CLIENT_ID.hex()}, "bootstrap-uri": rpk_uri,
                        "server-public-key": "certs/bs-rpk.pem"})
    store = lab.write_store(folder / "lab-store.json", entries)

    print("\nDevice  LwM2M Bootstrap-Request over DTLS, trusting only what DHCP delivered")
    Report.info("identities", "fresh EC P-256 keys (the example's bs.pem has no private key here)")
    for family in families:
        servers[family.number].close()
        body = lab_body(family, hook)
        _hook_entry(body, family.config_file)["parameters"]["store-file"] = str(store)
        try:
            kea = stack.enter_context(lab.KeaServer(net, family.number, body))
        except lab.KeaError as error:
            raise DemoError(str(error)) from error
        servers[family.number] = kea
        Report.info(kea.name, f"pid {kea.pid}, restarted on the lab store, {uris[family.number]}")

    def attempt(label: str, identity: dev.Identity, family: Family, addresses: list[str],
                port: int, expect: str, extra_conf: str = "") -> None:
        device = dev.DhcpDevice(net, family.number, workdir / label.replace(" ", "-"),
                                endpoint=f"demo-{label.replace(' ', '-')}",
                                codes=(family.uri_code, family.cert_code), extra_conf=extra_conf)
        with dev.BootstrapServer(net, identity, addresses, port) as server, device:
            try:
                verdict = device.run()
            except AssertionError as error:
                report.fail(label, "no bootstrap verdict", str(error).splitlines()[-8:])
                return
        ok = verdict.startswith(expect)
        if expect == dev.BOOTSTRAPPED:
            ok = ok and verdict.endswith(", 2.04 Changed") and server.requests() == [device.endpoint]
        else:
            ok = ok and server.requests() == []
        if ok:
            print(f"  {report.good} {label:<15}{verdict}")
        else:
            detail = (device.state / "last-bootstrap.log")
            report.fail(label, verdict, [f"expected: {expect}...",
                                         *(detail.read_text().splitlines() if detail.exists() else [])])

    v4 = next(f for f in families if f.number == 4)
    v6 = next(f for f in families if f.number == 6)
    attempt("X.509 DHCPv4", real, v4, [lab.SERVER4], BOOTSTRAP_PORT, dev.BOOTSTRAPPED)
    attempt("X.509 DHCPv6", real, v6, [lab.SERVER6], BOOTSTRAP_PORT, dev.BOOTSTRAPPED)
    if raw is None:
        Report.info("raw key DHCPv4", "(skipped: this hook's store has no server-public-key)")
    else:
        attempt("raw key DHCPv4", raw, v4, [lab.SERVER4], RPK_PORT, dev.BOOTSTRAPPED,
                f'send dhcp-client-identifier "{RPK_CLIENT_ID.decode()}";\n')
    attempt("impostor", impostor, v4, [lab.SERVER4], BOOTSTRAP_PORT, dev.REFUSED)
    Report.info("", "(impostor: another key, the same subject, at the delivered address)")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def _relative(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(REPO))
    except ValueError:
        return str(path)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def installed_hook() -> Path | None:
    """The hook as `make install` or the .deb put it in Kea's hooks directory."""
    for folder in sorted(Path("/usr/lib").glob("*/kea/hooks")) + sorted(Path("/usr/local/lib").glob("*/kea/hooks")):
        if (folder / HOOK_NAME).is_file():
            return folder / HOOK_NAME
    return None


def default_hook() -> Path:
    """No --hook: $KEA_LWM2M_HOOK, else the installed hook (the machine's own
    Kea only: it is built for that one), else the build's for the Kea in use."""
    if os.environ.get("KEA_LWM2M_HOOK") or not lab.kea_under_test().is_host:
        return lab.hook_path()
    return installed_hook() or lab.hook_path()


def run(args: argparse.Namespace) -> int:
    """The demo proper; raises DemoError when it cannot run."""
    if os.geteuid() != 0:
        raise DemoError("run me as root: the lab needs network namespaces")
    for tool in ("ip", "kea-dhcp4", "kea-dhcp6", "dhclient"):
        if shutil.which(tool) is None:
            raise DemoError(f"{tool} not found (apt-get install iproute2 kea-dhcp4-server "
                            "kea-dhcp6-server isc-dhcp-client)")
    hook = None if args.without_hook else args.hook.absolute()
    if hook is not None and not hook.is_file():
        raise DemoError(f"no hook at {hook}: build it first (make)")
    families = [load_family(4), load_family(6)]
    for family in families:
        check_lab_fits(family)

    print("kea-lwm2m demo: a device asks DHCP for its LwM2M bootstrap server\n")
    Report.info("kea", lab.kea_under_test().describe())
    Report.info("hook", _relative(hook) if hook else "none: Kea's own option-data (--without-hook)")
    Report.info("configuration", f"{_relative(KEA_CONFIG)}/{{"
                + ", ".join([f.config_file.name for f in families] + [STORE_FILE.name]) + "}")

    report = Report()
    lab.remove_stale_namespaces()
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="kea-lwm2m-demo-"))
        if args.keep:
            stack.callback(print, f"(kept {workdir})")
        else:
            stack.callback(shutil.rmtree, workdir, True)
        net = stack.enter_context(lab.Lab())
        Report.info("lab", f"server {net.srv_ns} <-veth-> device {net.cli_ns}")
        servers = {}
        for family in families:
            try:
                kea = stack.enter_context(lab.KeaServer(net, family.number, lab_body(family, hook)))
            except lab.KeaError as error:
                raise DemoError(str(error)) from error
            servers[family.number] = kea
            Report.info(kea.name, f"pid {kea.pid}, serving {family.prefix}")

        for family in families:
            codes = f"options {family.uri_code}+{family.cert_code}"
            if family.number == 4:
                print(f"\nDHCPv4  dhclient -4, {codes}, option 57 = {DEVICE_MAX_MESSAGE_SIZE}")
            else:
                mode = "Information-Request" if args.stateless else "Solicit/Request"
                print(f"\nDHCPv6  dhclient -6, {mode}, {codes}")
            sniffer = Sniffer(net)
            stack.callback(sniffer.close)
            device = Device(net, family, workdir, args.stateless)
            stack.callback(device.stop)
            env = device.run()
            if env is None:
                kea = servers[family.number]
                state = "running" if kea.alive() else f"exited with {kea.proc.returncode}"
                report.fail("answer", f"none in {DHCLIENT_TIMEOUT:.0f} s ({kea.name} {state}); "
                            "dhclient's log ends:",
                            device.log.read_text(errors="replace").splitlines()[-8:])
                continue
            report_family(family, env, sniffer.replies(), report)

        if hook is None:
            print("\nDevice  (the bootstrap over DTLS runs with the hook only)")
        elif not report.failures:
            bootstrap_devices(families, hook, workdir, net, stack, servers, report)

        print()
        if report.failures:
            print(f"FAIL  {report.failures} check(s) failed against {_relative(STORE_FILE)}")
            for kea in servers.values():
                lines = [line for line in kea.log().splitlines()
                         if re.search(r" (ERROR|FATAL) | LWM2M_", line)]
                print(f"  {kea.name} log, errors and hook lines ({len(lines)} in all):")
                print("\n".join("    " + line for line in lines[-15:]))
            return 1
        print("PASS  the device received the configured bootstrap URI and certificate "
              "over DHCPv4 and DHCPv6" + ("" if hook is None else
              ", bootstrapped over DTLS with what it received, and refused an impostor"))
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hook", type=Path, default=None,
                        help="the hook to load (default: $KEA_LWM2M_HOOK, else the "
                             "installed one in Kea's hooks directory (make install, "
                             "the .deb), else .build/release/libdhcp_lwm2m.so)")
    parser.add_argument("--stateless", action="store_true",
                        help="DHCPv6 by Information-Request (dhclient -6 -S) "
                             "instead of Solicit/Request")
    parser.add_argument("--without-hook", action="store_true",
                        help="serve the same options with Kea's own option-data "
                             "(checks the lab and the device side)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary files (Kea and dhclient configs and logs)")
    args = parser.parse_args(argv)
    if args.hook is None:
        args.hook = default_hook()
    if args.keep:
        os.environ["KEA_LWM2M_KEEP_TMP"] = "1"  # the lab keeps Kea's files too
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(args)
    except DemoError as error:
        print(f"\nERROR  {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; everything stopped and removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
