"""Self-signed test certificates made with python cryptography, at exact sizes.

`der_of_size(n)` returns the DER of an Ed25519 certificate of exactly n
octets: the subject's organizational-unit name is grown until the encoding
has the size asked for (Ed25519 signatures are always 64 octets, so the size
does not vary from run to run).  `typical(kind)` makes the certificates the
client guide's option 57 table is computed from.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID, ObjectIdentifier

# A private-enterprise arc for the padding extension (never interpreted).
_PAD_OID = ObjectIdentifier("1.3.6.1.4.1.32473.4057.1")

_START = datetime.datetime(2024, 1, 1)


def _certificate(key, subject: x509.Name, sign_hash, extensions=()) -> bytes:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(0x4C57)
               .not_valid_before(_START).not_valid_after(_START + datetime.timedelta(days=3650)))
    for ext in extensions:
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(key, sign_hash).public_bytes(Encoding.DER)


def der_of_size(n: int) -> bytes:
    """DER of an Ed25519 certificate of exactly `n` octets (200 <= n <= 60000).

    A non-critical private extension of `pad` octets does the bulk; since the
    DER length fields grow at 128 and 256 octets, some totals are out of reach
    for a given common name, so the common name's length varies too.
    """
    key = ed25519.Ed25519PrivateKey.generate()
    for cn_length in range(1, 40):
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "b" * cn_length)])
        pad = 1
        for _ in range(6):
            ext = x509.UnrecognizedExtension(_PAD_OID, b"\0" * pad)
            der = _certificate(key, subject, None, [ext])
            if len(der) == n:
                return der
            pad += n - len(der)
            if pad < 1:
                break
    raise ValueError(f"could not make a certificate of {n} octets")


def typical(kind: str) -> bytes:
    """DER of a typical bootstrap-server certificate: CN bs.example.com, one
    SAN, self-signed; kind is "ed25519", "p256" or "rsa2048"."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bs.example.com")])
    san = x509.SubjectAlternativeName([x509.DNSName("bs.example.com")])
    if kind == "ed25519":
        return _certificate(ed25519.Ed25519PrivateKey.generate(), name, None, [san])
    if kind == "p256":
        return _certificate(ec.generate_private_key(ec.SECP256R1()), name, hashes.SHA256(), [san])
    if kind == "rsa2048":
        return _certificate(rsa.generate_private_key(65537, 2048), name, hashes.SHA256(), [san])
    raise ValueError(kind)


def pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
