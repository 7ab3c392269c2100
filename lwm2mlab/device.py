"""The device side in the lab: bootstrap-server identities, the bootstrap
server, and a DHCP client whose hook bootstraps the device.

* `Identity.x509(folder, name)` / `Identity.raw_key(folder, name)`: a fresh
  EC P-256 key and its self-signed certificate (subject ``CN=<subject>``) or
  its public key, as PEM files, and the value the DHCP certificate option
  carries for it (``0x04 || DER`` or ``0x0F || SPKI DER``).
* `BootstrapServer(net, identity, addresses, port)`: lwm2m-bootstrap-server
  (examples/device) in the lab's server namespace, answering
  ``POST /bs?ep=`` with 2.04 over DTLS with that identity.
* `DhcpDevice(net, family, folder)`: ISC dhclient (or dhcpcd) in the client
  namespace with examples/device/lwm2m-dhcp-hook.sh as its script, which writes the
  delivered URI and identity and runs lwm2m-bootstrap-device; `run()`
  returns its one-line verdict.  `retry()` runs the device program again on
  the files of the last lease (the device's next connection attempt).

The C programs are built by ``make device`` (``build_programs()`` runs it).
Everything started is stopped by PID on close, also on failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import signal
import subprocess
import time
from pathlib import Path

from .netns import CLIENT_IF, REPO, Lab, stop_process

EXAMPLES = REPO / "examples" / "device"
HOOK_SCRIPT = EXAMPLES / "lwm2m-dhcp-hook.sh"
PROGRAM_DIR = REPO / ".build" / "device"
DEVICE_PROGRAM = PROGRAM_DIR / "lwm2m-bootstrap-device"
SERVER_PROGRAM = PROGRAM_DIR / "lwm2m-bootstrap-server"

ENCODING_X509 = 0x04
ENCODING_RAW_PUBLIC_KEY = 0x0F
URI_OPTION = "lwm2m-bootstrap-uri"
CERT_OPTION = "lwm2m-server-certificate"
BOOTSTRAPPED = "the device bootstrapped: DTLS handshake with "
REFUSED = "refused: server identity does not match what DHCP delivered"


def build_programs() -> tuple[Path, Path]:
    """``make device``: (device program, server program); raises on failure."""
    result = subprocess.run(["make", "-s", "-C", str(REPO), "device"], capture_output=True,
                            text=True)
    if result.returncode != 0 or not (DEVICE_PROGRAM.is_file() and SERVER_PROGRAM.is_file()):
        raise RuntimeError(f"make device failed:\n{result.stdout}{result.stderr}")
    return DEVICE_PROGRAM, SERVER_PROGRAM


@dataclasses.dataclass(frozen=True)
class Identity:
    """A bootstrap server's key and what it presents, as files and bytes."""
    key: Path               # private key, PEM
    presented: Path         # certificate (X.509) or public key (raw key), PEM
    der: bytes              # certificate DER, or SubjectPublicKeyInfo DER
    encoding: int           # ENCODING_X509 or ENCODING_RAW_PUBLIC_KEY

    @property
    def option_value(self) -> bytes:
        """What the DHCP certificate option carries for this identity."""
        return bytes([self.encoding]) + self.der

    @property
    def is_raw_key(self) -> bool:
        return self.encoding == ENCODING_RAW_PUBLIC_KEY

    @staticmethod
    def _key(folder: Path, name: str):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        path = Path(folder) / f"{name}.key"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)
        return key, path

    @classmethod
    def x509(cls, folder: Path, name: str, subject: str = "bs.example.com",
             organization: str | None = None) -> "Identity":
        """A fresh key and a self-signed certificate for `subject` (CN and DNS SAN)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID

        key, key_path = cls._key(folder, name)
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, subject))
        name_ = x509.Name(attributes)
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name_).issuer_name(name_)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
                .sign(key, hashes.SHA256()))
        path = Path(folder) / f"{name}.pem"
        path.write_bytes(cert.public_bytes(Encoding.PEM))
        return cls(key_path, path, cert.public_bytes(Encoding.DER), ENCODING_X509)

    @classmethod
    def raw_key(cls, folder: Path, name: str) -> "Identity":
        """A fresh key and its public key (PEM ``PUBLIC KEY``), for RPK mode."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        key, key_path = cls._key(folder, name)
        path = Path(folder) / f"{name}.pub.pem"
        path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return cls(key_path, path, der, ENCODING_RAW_PUBLIC_KEY)

    def store_keys(self, relative_path: str) -> dict:
        """The store entry keys naming this identity's presented file."""
        return {("server-public-key" if self.is_raw_key else "server-certificate"): relative_path}


class BootstrapServer:
    """lwm2m-bootstrap-server in the lab's server namespace (stopped by PID)."""

    def __init__(self, net: Lab, identity: Identity, addresses: list[str], port: int = 5684,
                 log: Path | None = None, timeout: float = 5.0) -> None:
        self.identity = identity
        argv = [str(SERVER_PROGRAM), "-p", str(port), "-k", str(identity.key),
                "-P" if identity.is_raw_key else "-c", str(identity.presented)]
        for address in addresses:
            argv += ["-A", address]
        self.log = log or identity.key.with_suffix(f".server-{port}.log")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(["ip", "netns", "exec", net.srv_ns, *argv],
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while "listening" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"bootstrap server did not start: {self.output()}")
            time.sleep(0.02)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def requests(self) -> list[str]:
        """The endpoint names of the Bootstrap-Requests answered so far."""
        return [line.split()[2] for line in self.output().splitlines()
                if line.startswith("Bootstrap-Request from ")]

    def close(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> "BootstrapServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# The script dhclient runs: the settings of the device hook, then the hook.
# dhclient gives its script a fresh environment, hence this wrapper.
WRAPPER = """#!/bin/sh
export LWM2M_STATE_DIR='{state}' LWM2M_ENDPOINT='{endpoint}' LWM2M_DEVICE='{device}' LWM2M_TIMEOUT='{timeout}'
exec '{hook}' "$@"
"""


def dhclient_conf(family: int, uri_code: int, cert_code: int) -> str:
    """dhclient.conf declaring and requesting the LwM2M options as docs/clients.md says."""
    space = "dhcp6." if family == 6 else ""
    lines = [f"option {space}{URI_OPTION} code {uri_code} = text;",
             f"option {space}{CERT_OPTION} code {cert_code} = array of unsigned integer 8;",
             f"also request {space}{URI_OPTION}, {space}{CERT_OPTION};"]
    if family == 4:
        lines.append("send dhcp-max-message-size 1500;")
    return "\n".join(lines) + "\n"


def dhcpcd_conf(family: int, uri_code: int, cert_code: int) -> str:
    """dhcpcd.conf declaring and requesting the LwM2M options as docs/clients.md
    says (DHCPv6: Solicit/Request for one address, no router advertisements)."""
    if family == 4:
        return ("nodev\nnodelay\nnoarp\nnoipv4ll\n"
                f"define {uri_code} binhex lwm2m_uri\ndefine {cert_code} array byte lwm2m_cert\n"
                "option lwm2m_uri, lwm2m_cert\n")
    return ("nodev\nnodelay\nnoipv6rs\nia_na 1\n"
            f"define6 {uri_code} binhex lwm2m_uri\ndefine6 {cert_code} array byte lwm2m_cert\n"
            "option dhcp6_lwm2m_uri, dhcp6_lwm2m_cert\n")


class DhcpDevice:
    """A DHCP client in the client namespace, bootstrapping through the device
    hook: ISC dhclient, or dhcpcd (`client="dhcpcd"`, whose compiled-in run
    and database folders are bind-mounted from the device's own folder in
    the mount namespace of ``ip netns exec``, so the host's stay untouched).

    `extra_conf`: more configuration lines (e.g. a client identifier).
    """

    def __init__(self, net: Lab, family: int, folder: Path, endpoint: str = "lab-device",
                 codes: tuple[int, int] | None = None, timeout: int = 5,
                 extra_conf: str = "", client: str = "dhclient") -> None:
        from .model import DEFAULT_CODES

        assert client in ("dhclient", "dhcpcd")
        self.net, self.family, self.endpoint, self.timeout = net, family, endpoint, timeout
        self.client = client
        self.dir = Path(folder) / f"{client}{family}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state = self.dir / "state"
        uri_code, cert_code = codes or DEFAULT_CODES[family]
        make_conf = dhclient_conf if client == "dhclient" else dhcpcd_conf
        (self.dir / f"{client}.conf").write_text(make_conf(family, uri_code, cert_code) + extra_conf)
        self.script = self.dir / "hook.sh"
        self.script.write_text(WRAPPER.format(state=self.state, endpoint=endpoint,
                                              device=DEVICE_PROGRAM, hook=HOOK_SCRIPT,
                                              timeout=timeout))
        self.script.chmod(0o755)
        self.log = self.dir / f"{client}.log"
        self.proc: subprocess.Popen | None = None

    def _argv(self) -> list[str]:
        if self.client == "dhclient":
            return ["dhclient", f"-{self.family}", "-d", "-1", "-v",
                    "-cf", str(self.dir / "dhclient.conf"), "-sf", str(self.script),
                    "-lf", str(self.dir / "leases"), "-pf", str(self.dir / "dhclient.pid"), CLIENT_IF]
        run_dir, db_dir = self.dir / "run", self.dir / "db"
        run_dir.mkdir(exist_ok=True)
        db_dir.mkdir(exist_ok=True)
        return ["sh", "-c", 'mount --bind "$1" /run && mount --bind "$2" /var/lib/dhcpcd '
                '&& shift 2 && exec "$@"', "sh", str(run_dir), str(db_dir),
                "dhcpcd", "--config", str(self.dir / "dhcpcd.conf"), "--script", str(self.script),
                f"-{self.family}", "--oneshot", "--nobackground", "--noconfigure",
                "--timeout", "10", CLIENT_IF]

    @property
    def verdict_file(self) -> Path:
        return self.state / "last-bootstrap"

    def run(self, timeout: float = 25.0) -> str:
        """One DHCP exchange; the device hook's verdict line."""
        self.verdict_file.unlink(missing_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["ip", "netns", "exec", self.net.cli_ns, *self._argv()],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            while not self.verdict_file.exists():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{self.client} -{self.family}: no bootstrap in {timeout:.0f} s; "
                                         f"log:\n{self.log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.05)
        finally:
            self.stop()
        return self.verdict_file.read_text().strip()

    def delivered(self) -> tuple[str, bytes]:
        """The URI and the certificate option value the hook wrote from the last lease."""
        return ((self.state / "bootstrap-uri").read_text(),
                (self.state / "server-identity").read_bytes())

    def retry(self) -> subprocess.CompletedProcess:
        """The device program again on the last lease's files (its next attempt)."""
        uri, _ = self.delivered()
        return subprocess.run(["ip", "netns", "exec", self.net.cli_ns, str(DEVICE_PROGRAM),
                               "-t", str(self.timeout), "-f", str(self.state / "server-identity"),
                               "-e", self.endpoint, uri],
                              capture_output=True, text=True, timeout=self.timeout + 10)

    def stop(self) -> None:
        """Stop the client by PID, then what is left of its process group
        (dhcpcd's privilege-separation helpers)."""
        if self.proc is None:
            return
        stop_process(self.proc)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def __enter__(self) -> "DhcpDevice":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
