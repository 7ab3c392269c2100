"""End to end: ``scripts/demo.py`` (``make demo``) runs and proves its point.

The demo starts Kea with the hook and the example configuration in
``kea-config/``, lets ISC dhclient fetch the LwM2M options over DHCPv4 and
DHCPv6 and checks what it received.  These tests run it as a user would and
check its exit status and that it reports, as received, the bootstrap URIs
and the certificate fingerprint of the example store, computed here from
``kea-config/`` itself.

Needs root, Kea and dhclient.  The tests that use the hook take it from
the suite's ``hook`` fixture (conftest.py): skipped when it is not built,
failed instead with KEA_LWM2M_REQUIRE_HOOK=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo.py"
STORE = REPO / "kea-config" / "lwm2m-store.json"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the demo's lab needs root"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("kea-dhcp4", "kea-dhcp6", "dhclient")),
                       reason="needs kea-dhcp4, kea-dhcp6 and dhclient"),
]


def expected_values() -> tuple[list[str], list[str]]:
    """The store's bootstrap URIs and certificate fingerprints (openssl style)."""
    store = json.loads(STORE.read_text())
    uris, fingerprints = [], []
    for entry in store["entries"]:
        uris.append(entry["bootstrap-uri"])
        if entry.get("server-certificate"):
            pem = (STORE.parent / entry["server-certificate"]).read_bytes()
            der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
            digest = hashlib.sha256(der).digest()
            fingerprints.append(":".join(f"{b:02X}" for b in digest))
    return uris, fingerprints


def run_demo(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    result = subprocess.run([sys.executable, str(DEMO), *args], capture_output=True,
                            text=True, encoding="utf-8", env=env, timeout=180)
    print(result.stdout, result.stderr, sep="\n")  # shown by pytest on failure
    return result


def received(output: str, label: str) -> list[str]:
    """Values of the ticked (received and matching) lines with this label."""
    return re.findall(rf"^  ✓ {re.escape(label)} +(\S.*)$", output, re.M)


def assert_demo_passed(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"demo exited with {result.returncode}"
    uris, fingerprints = expected_values()
    out = result.stdout
    # One DHCPv4 and one DHCPv6 exchange, each ticked for URI and certificate.
    assert sorted(received(out, "bootstrap URI")) == sorted(uris)
    assert sorted(received(out, "SHA-256")) == sorted(fingerprints)
    assert len(received(out, "certificate")) == 2
    assert "✗" not in out
    assert re.search(r"^PASS ", out, re.M)


HOOK_HAS_RPK = any("server-public-key" in p.read_text(errors="replace")
                   for p in (REPO / "Sources").rglob("*.swift"))
BOOTSTRAPPED = re.compile(r"the device bootstrapped: DTLS handshake with (.+), 2\.04 Changed")


def assert_device_bootstrapped(out: str) -> None:
    """The demo's last step: the device bootstrapped over DTLS with X.509
    (v4 and v6) and, when the hook knows raw keys, a raw public key (v4);
    the impostor was refused."""
    for label in ("X.509 DHCPv4", "X.509 DHCPv6"):
        got = received(out, label)
        assert len(got) == 1 and BOOTSTRAPPED.fullmatch(got[0]), (label, got)
        assert "CN=bs.example.com" in got[0]
    if HOOK_HAS_RPK:
        got = received(out, "raw key DHCPv4")
        assert len(got) == 1 and BOOTSTRAPPED.fullmatch(got[0]), got
        assert "raw public key SHA-256 " in got[0]
    assert received(out, "impostor") == ["refused: server identity does not match what DHCP delivered"]


def test_demo_with_the_hook(hook):
    """`make demo` as it is: stateful DHCPv4 and DHCPv6 (Solicit/Request),
    then the device's bootstrap over DTLS."""
    result = run_demo("--hook", str(hook))
    assert_demo_passed(result)
    assert_device_bootstrapped(result.stdout)
    # The DHCPv4 certificate (> 255 bytes) went out split (RFC 3396) and the
    # reply stayed within the 1500 bytes the device announced in option 57.
    assert re.search(r"on the wire +option \d+ in [2-9] parts", result.stdout)


def test_demo_stateless_dhcpv6(hook):
    """DHCPv6 Information-Request (dhclient -6 -S) gets the options too."""
    assert_demo_passed(run_demo("--hook", str(hook), "--stateless"))


def test_demo_device_side_without_the_hook():
    """The lab and dhclient decoding, checked with Kea's own option-data.

    Independent of the hook: when this passes and the tests above fail, the
    fault is in the hook, not in the demo.
    """
    assert_demo_passed(run_demo("--without-hook"))
