"""systemd-networkd's DHCPv4 client as the device.

systemd-networkd (Debian 12: systemd 252) runs in the lab's client namespace
with a private /run/systemd (its .network file, its lease files) and a
read-only /sys, so that it does not wait for udev. It asks for the LwM2M
codes with `RequestOptions=224 225` in its [DHCPv4] section, announces
option 57 = MTU - 28 = 1472, and writes every option of the site-specific
range to its lease file as `OPTION_<code>=<hex>`. What the tests pin:

* the URI arrives whole;
* a certificate whose value fits one option (at most 255 octets: an Ed25519
  certificate) arrives whole;
* a longer certificate (RFC 3396 parts) does not: networkd keeps the first
  option of a code and ignores the others ("Ignoring duplicate option"), so
  its lease holds the first 255 octets of the value only. docs/clients.md
  says so.

networkd is stopped by PID and its files removed when a test ends, also on
failure. Needs root, the hook and systemd (systemd-networkd).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

import lwm2mlab as lab
from conftest import DATA, load_cert

NETWORKD = Path("/lib/systemd/systemd-networkd")
URI = "coaps://bs.example.com:5684"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network namespaces"),
    pytest.mark.skipif(not NETWORKD.is_file(), reason="needs systemd-networkd"),
]

NETWORK_FILE = """[Match]
Name={ifname}

[Network]
DHCP=ipv4
IPv6AcceptRA=no
LinkLocalAddressing=no

[DHCPv4]
RequestOptions=224 225
"""

# Inside the namespace: a private /run/systemd (bind-mounted from the test's
# folder so the test can read the lease), /sys read-only (networkd then does
# not wait for udev), then networkd itself in place of the shell.
START = """set -e
mount --bind "$1" /run/systemd
mount -o remount,ro /sys
exec {networkd}
"""


def ed25519_certificate(folder: Path) -> Path:
    """A self-signed Ed25519 certificate small enough for one DHCPv4 option."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bs")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, None))
    path = folder / "ed25519.pem"
    path.write_bytes(cert.public_bytes(Encoding.PEM))
    return path


@contextlib.contextmanager
def networkd(net: lab.Lab):
    """systemd-networkd on the client side; yields its /run/systemd folder."""
    run = Path(tempfile.mkdtemp(prefix="lwm2m-networkd-"))
    proc = None
    try:
        run.chmod(0o755)  # networkd runs as systemd-network
        (run / "network").mkdir()
        (run / "netif").mkdir()
        shutil.chown(run / "netif", "systemd-network", "systemd-network")
        (run / "network" / "50-lab.network").write_text(NETWORK_FILE.format(ifname=lab.CLIENT_IF))
        env = dict(os.environ, SYSTEMD_LOG_LEVEL="debug", SYSTEMD_LOG_TARGET="console")
        log = open(run / "networkd.log", "wb")
        # `ip netns exec` and `unshare` exec in place and the shell execs
        # networkd: proc.pid is networkd's PID.
        proc = subprocess.Popen(
            ["ip", "netns", "exec", net.cli_ns, "unshare", "-m", "sh", "-c",
             START.format(networkd=NETWORKD), "sh", str(run)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        yield run
    finally:
        lab.stop_process(proc)
        shutil.rmtree(run, ignore_errors=True)


def lease_options(run: Path, timeout: float = 20.0) -> dict[int, bytes]:
    """The OPTION_<code> values of networkd's first lease."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for lease in (run / "netif" / "leases").glob("*"):
            text = lease.read_text()
            if "ADDRESS=" in text:
                options = {}
                for line in text.splitlines():
                    if line.startswith("OPTION_"):
                        code, value = line[len("OPTION_"):].split("=", 1)
                        options[int(code)] = bytes.fromhex(value)
                return options
        time.sleep(0.2)
    log = (run / "networkd.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"networkd got no lease in {timeout}s:\n{log}")


def serve(kea_factory, hook: Path, folder: Path, certificate: Path):
    store = lab.write_store(folder / "store.json", [
        {"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": URI,
         "server-certificate": "certs/" + certificate.name}],
        {"certs/" + certificate.name: certificate})
    return kea_factory(4, lab.base_config(4, hook, {"store-file": str(store)}))


def test_networkd_gets_uri_and_single_option_certificate(hook, kea_factory, tmp_path):
    pem = ed25519_certificate(tmp_path)
    der = load_cert(pem).der
    assert 1 + len(der) <= 255, "the Ed25519 certificate should fit one option"
    net, kea = serve(kea_factory, hook, tmp_path, pem)
    with networkd(net) as run:
        options = lease_options(run)
    assert options.get(224) == URI.encode(), options
    assert options.get(225) == b"\x04" + der, options
    # networkd announced its limit: MTU 1500 - IP and UDP headers.
    assert "type=057, len=002: 1472 (uint16)" in kea.log()


def test_networkd_keeps_only_the_first_part_of_a_split_certificate(hook, kea_factory, tmp_path):
    cert = load_cert(DATA / "small.pem")
    value = b"\x04" + cert.der
    assert len(value) > 255, "small.pem must need two RFC 3396 parts"
    net, kea = serve(kea_factory, hook, tmp_path, cert.pem)
    with networkd(net) as run:
        options = lease_options(run)
    assert options.get(224) == URI.encode(), options
    # Kea sent the whole value in its ACK (URI option + both parts) ...
    uri_wire = 2 + len(URI)
    cert_wire = len(value) + 2 * 2
    sent = f"LwM2M options sent ({uri_wire + cert_wire} octets"
    assert sent in kea.log(), f"no '{sent}' in Kea's log"
    # ... and networkd kept the first part.
    assert options.get(225) == value[:255], options
