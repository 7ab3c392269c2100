"""End to end: a device bootstraps over DTLS, trusting only what DHCP gave it.

Kea with the hook serves the lab's link (subnet A) from a store whose
certificate is the one a bootstrap server in the server namespace holds
(fresh EC P-256 identities, made per module).  The device is ISC dhclient
(one case: dhcpcd) in the client namespace with examples/device/lwm2m-dhcp-hook.sh as its
script: the hook writes the delivered URI and server identity and runs
lwm2m-bootstrap-device, which pins that identity in the DTLS handshake and
sends the LwM2M Bootstrap-Request (POST /bs?ep=...).  Asserted: the
device's own verdict line, the server's record of the request, and the
bytes the hook wrote (exactly the store's identity).

* X.509, DHCPv4 and DHCPv6: handshake, 2.04 Changed;
* raw public key (store key ``server-public-key``, ``0x0F || SPKI``), DHCPv4;
* an impostor (another key, the same subject) at the delivered address:
  refused, and it never sees a request;
* a certificate rotated in the store (hot reload) reaches the device with
  its next lease; the device then trusts the new server and refuses the old.

Each case takes one to three seconds (dhclient's exchange dominates).  Needs
root, the hook, dhclient and libcoap3-dev (``make device`` builds the C
programs; this module runs it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import lwm2mlab as lab
from lwm2mlab import device as dev

pytestmark = [
    pytest.mark.skipif(shutil.which("dhclient") is None, reason="needs dhclient (isc-dhcp-client)"),
    pytest.mark.skipif(subprocess.run(["pkg-config", "--exists", "libcoap-3-gnutls"],
                                      capture_output=True).returncode != 0 if shutil.which("pkg-config")
                       else True, reason="needs libcoap3-dev (pkg-config libcoap-3-gnutls)"),
]

PORT = 5684
URIS = {4: f"coaps://{lab.SERVER4}:{PORT}", 6: f"coaps://[{lab.SERVER6}]:{PORT}"}
RPK_PORT = 5685
RPK_URI = f"coaps://{lab.SERVER4}:{RPK_PORT}"
# The raw-public-key store key comes with the hook's RPK support.
HOOK_HAS_RPK = "server-public-key" in "".join(
    p.read_text(errors="replace") for p in (lab.REPO / "Sources").rglob("*.swift"))
needs_rpk = pytest.mark.skipif(not HOOK_HAS_RPK, reason="the hook's store has no 'server-public-key' "
                               "key yet (raw public keys in the certificate option)")


@pytest.fixture(scope="module")
def programs():
    return dev.build_programs()


def store_entries(identity: dev.Identity, name: str) -> list[dict]:
    """Subnet A in both families: the lab's bootstrap server with `identity`."""
    return [{"subnet": lab.SUBNETS[family]["A"][0], "bootstrap-uri": URIS[family],
             **identity.store_keys(f"certs/{name}")} for family in (4, 6)]


def write_identity_file(store: Path, name: str, identity: dev.Identity) -> None:
    """Put `identity`'s presented file at certs/<name>, replaced atomically."""
    target = store.parent / "certs" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".new")
    shutil.copyfile(identity.presented, tmp)
    os.replace(tmp, target)


@pytest.fixture(scope="module")
def world(hook, programs, tmp_path_factory):
    """Kea 4 and 6 with the hook on a store naming identity "real"; the
    identities "real", "impostor" (same subject, other key) and, with RPK
    support, "rpk" (its own v4 entry for the client id of the RPK device)."""
    folder = tmp_path_factory.mktemp("device")
    ids = {"real": dev.Identity.x509(folder, "real"),
           "impostor": dev.Identity.x509(folder, "impostor")}
    store = folder / "store" / "store.json"
    write_identity_file(store, "bs.pem", ids["real"])
    entries = store_entries(ids["real"], "bs.pem")
    if HOOK_HAS_RPK:
        ids["rpk"] = dev.Identity.raw_key(folder, "rpk")
        write_identity_file(store, "bs-rpk.pem", ids["rpk"])
        entries.append({"host": {"client-id": RPK_CLIENT_ID.hex()}, "bootstrap-uri": RPK_URI,
                        **ids["rpk"].store_keys("certs/bs-rpk.pem")})
    lab.write_store(store, entries)
    with lab.Lab() as net, \
            lab.KeaServer(net, 4, lab.base_config(4, hook, {"store-file": str(store)})) as k4, \
            lab.KeaServer(net, 6, lab.base_config(6, hook, {"store-file": str(store)})) as k6:
        yield net, ids, folder, {4: k4, 6: k6}
        assert_nothing_left(net)


def assert_nothing_left(net: lab.Lab) -> None:
    """No device, client or bootstrap server survived its stop (only Kea may
    run in the lab); anything found is killed, and the test fails."""
    kea = set()
    for name in ("kea-dhcp4", "kea-dhcp6"):
        kea |= set(lab.sh("pgrep", "-x", name, check=False).stdout.split())
    deadline = time.monotonic() + 3
    while True:
        left = [pid for ns in (net.cli_ns, net.srv_ns)
                for pid in lab.sh("ip", "netns", "pids", ns, check=False).stdout.split()
                if pid not in kea and Path(f"/proc/{pid}/stat").exists()
                and Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    assert not left, f"processes survived their stop in the lab: {left}"


# The RPK device's DHCPv4 client identifier (option 61), selecting the
# store's raw-public-key entry.
RPK_CLIENT_ID = b"lwm2m-rpk-device"


def assert_bootstrapped(verdict: str, identity: dev.Identity, device: dev.DhcpDevice,
                        server: dev.BootstrapServer) -> None:
    assert verdict.startswith(dev.BOOTSTRAPPED), verdict
    assert verdict.endswith(", 2.04 Changed"), verdict
    assert server.requests() == [device.endpoint], server.output()
    uri, value = device.delivered()
    assert value == identity.option_value
    return uri


@pytest.mark.parametrize("family", [4, 6])
def test_x509_device_bootstraps(world, family):
    """The device trusts exactly the delivered certificate: handshake, 2.04."""
    net, ids, folder, _ = world
    address = lab.SERVER4 if family == 4 else lab.SERVER6
    with dev.BootstrapServer(net, ids["real"], [address], PORT) as server, \
            dev.DhcpDevice(net, family, folder / f"x509-{family}", endpoint=f"x509-v{family}") as device:
        verdict = device.run()
        uri = assert_bootstrapped(verdict, ids["real"], device, server)
    assert uri == URIS[family]
    assert "CN=bs.example.com" in verdict


@pytest.mark.skipif(shutil.which("dhcpcd") is None or not Path("/var/lib/dhcpcd").is_dir(),
                    reason="needs dhcpcd (apt-get install dhcpcd-base)")
def test_dhcpcd_device_bootstraps(world):
    """The same hook under dhcpcd (URI as binhex, certificate as array
    byte), DHCPv6 Solicit/Request."""
    net, ids, folder, _ = world
    with dev.BootstrapServer(net, ids["real"], [lab.SERVER6], PORT) as server, \
            dev.DhcpDevice(net, 6, folder / "dhcpcd", endpoint="dhcpcd-v6", client="dhcpcd") as device:
        verdict = device.run()
        uri = assert_bootstrapped(verdict, ids["real"], device, server)
    assert uri == URIS[6]


def test_impostor_is_refused(world):
    """Another key with the same subject at the delivered address: the
    handshake fails in the device, which never sends its request."""
    net, ids, folder, _ = world
    with dev.BootstrapServer(net, ids["impostor"], [lab.SERVER4], PORT) as impostor, \
            dev.DhcpDevice(net, 4, folder / "impostor", endpoint="victim") as device:
        verdict = device.run()
        assert verdict == dev.REFUSED
        assert impostor.requests() == []
        assert "Access was denied" in impostor.output()   # the device's DTLS alert
        assert device.delivered()[1] == ids["real"].option_value


@needs_rpk
def test_raw_public_key_device_bootstraps(world):
    """Store key server-public-key: the device gets 0x0F || SPKI, pins the
    server's raw public key (RFC 7250) and bootstraps; the X.509 server's
    key is refused at that URI."""
    net, ids, folder, _ = world
    device = dev.DhcpDevice(net, 4, folder / "rpk", endpoint="rpk-v4",
                            extra_conf=f'send dhcp-client-identifier "{RPK_CLIENT_ID.decode()}";\n')
    with dev.BootstrapServer(net, ids["rpk"], [lab.SERVER4], RPK_PORT) as server, device:
        verdict = device.run()
        assert_bootstrapped(verdict, ids["rpk"], device, server)
    assert "raw public key SHA-256 " in verdict
    assert device.delivered()[0] == RPK_URI
    with dev.BootstrapServer(net, dev.Identity.raw_key(folder, "rpk-impostor"), [lab.SERVER4],
                             RPK_PORT) as impostor:
        retry = device.retry()
    assert retry.returncode == 1 and retry.stdout.strip() == dev.REFUSED, retry
    assert impostor.requests() == []


def test_rotated_certificate_reaches_the_device(hook, programs, tmp_path):
    """Rotate the store's certificate (hot reload): the next lease carries
    the new one; the device bootstraps with the new server and, on its next
    attempt, refuses the old one."""
    old, new = dev.Identity.x509(tmp_path, "old"), dev.Identity.x509(tmp_path, "new")
    store = tmp_path / "store" / "store.json"
    write_identity_file(store, "bs.pem", old)
    lab.write_store(store, store_entries(old, "bs.pem")[:1])
    with lab.Lab() as net, \
            lab.KeaServer(net, 4, lab.base_config(4, hook, {"store-file": str(store)})) as kea:
        kea.wait_log(r"LWM2M_WATCHING")
        device = dev.DhcpDevice(net, 4, tmp_path / "device", endpoint="rotating")
        with dev.BootstrapServer(net, old, [lab.SERVER4], PORT) as server, device:
            assert_bootstrapped(device.run(), old, device, server)

        mark = len(kea.log())
        write_identity_file(store, "bs.pem", new)
        kea.wait_log(r"LWM2M_RELOADED", after=mark)
        with dev.BootstrapServer(net, new, [lab.SERVER4], PORT) as server, device:
            started = time.monotonic()
            assert_bootstrapped(device.run(), new, device, server)
            assert time.monotonic() - started < 15
        with dev.BootstrapServer(net, old, [lab.SERVER4], PORT) as server:
            retry = device.retry()
        assert retry.returncode == 1 and retry.stdout.strip() == dev.REFUSED, retry
        assert server.requests() == []
        assert_nothing_left(net)
