"""Benchmark certificates: N self-signed RSA-2048 certificates sharing one key.

Each DER is ~780 octets: as a DHCPv4 option (0x04 + DER) it needs four
RFC 3396 parts, as in a real deployment. Written as <dir>/cert-<n>.pem;
existing files are kept.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID


def write_certificates(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"cert-{n}.pem" for n in range(count)]
    missing = [p for p in paths if not p.exists()]
    if not missing:
        return paths
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    for n, path in enumerate(paths):
        if path.exists():
            continue
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bs-{n}.bench.example")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(1000 + n)
                .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
                .sign(key, hashes.SHA256()))
        path.write_bytes(cert.public_bytes(Encoding.PEM))
    return paths


def der_of(path: Path) -> bytes:
    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)


if __name__ == "__main__":
    out = write_certificates(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 50)
    print(f"{len(out)} certificates in {sys.argv[1]} ({len(der_of(out[0]))} octets DER)")
