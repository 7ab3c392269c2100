"""Shared fixtures of the kea-lwm2m command tests.

The tests run the BUILT command (KEA_LWM2M_CLI, default
.build/release/kea-lwm2m) as an operator would and check its output and
exit status. Tests that start Kea use the replay suite's lab (root).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

REPO = Path(__file__).resolve().parents[2]
REPLAY = REPO / "Tests" / "replay"
DATA = REPLAY / "data"
sys.path.insert(0, str(REPLAY))

import lwm2mlab as lab  # noqa: E402

CLI = Path(os.environ.get("KEA_LWM2M_CLI", REPO / ".build" / "release" / "kea-lwm2m"))
VERSION = (REPO / "VERSION").read_text().strip()


def run(*args: str, check: int | None = None) -> subprocess.CompletedProcess:
    """Runs the command; `check` is the exit status the test expects."""
    result = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=60)
    print("$ kea-lwm2m", *args, f"-> {result.returncode}", result.stdout, result.stderr, sep="\n")
    if check is not None:
        assert result.returncode == check, result.stderr or result.stdout
    return result


def der_of(pem: Path) -> bytes:
    return x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(Encoding.DER)


def openssl_fingerprint(der: bytes) -> str:
    import hashlib
    return ":".join(f"{b:02x}" for b in hashlib.sha256(der).digest())


def write_store(folder: Path, entries: list, name: str = "store.json") -> Path:
    path = folder / name
    path.write_text(json.dumps({"entries": entries}, indent=2))
    return path


@pytest.fixture(scope="session")
def cli() -> Path:
    if not CLI.is_file():
        msg = f"kea-lwm2m not built: {CLI} (make cli)"
        if os.environ.get("KEA_LWM2M_REQUIRE_HOOK") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return CLI


@pytest.fixture()
def certs(tmp_path: Path) -> Path:
    """A folder with the replay suite's certificates (small.pem, large.pem, ...)."""
    folder = tmp_path / "certs"
    folder.mkdir()
    for pem in DATA.glob("*.pem"):
        (folder / pem.name).write_bytes(pem.read_bytes())
    return folder


@pytest.fixture(scope="session")
def hook() -> Path:
    path = lab.hook_path()
    if not path.is_file():
        msg = f"hook not built: {path}"
        if os.environ.get("KEA_LWM2M_REQUIRE_HOOK") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network namespaces")


@pytest.fixture(scope="session", autouse=True)
def _stale_namespaces():
    if os.geteuid() == 0:
        lab.remove_stale_namespaces()
    yield
