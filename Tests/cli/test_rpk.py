"""kea-lwm2m check / encode / decode / explain with raw public keys
(server-public-key, encoding 15). The SubjectPublicKeyInfo and fingerprints
expected are computed here with python cryptography and hashlib."""

from __future__ import annotations

import re
import subprocess

from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat, load_der_public_key,
                                                          load_pem_public_key)

from conftest import DATA, der_of, openssl_fingerprint, run, write_store

URI = "coaps://bs-rpk.example.com:5684"


def spki(name: str) -> bytes:
    raw = (DATA / name).read_bytes()
    key = load_pem_public_key(raw) if name.endswith(".pem") else load_der_public_key(raw)
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def wires(out: str) -> bytes:
    return bytes.fromhex("".join(re.findall(r"^  wire(?:\[\d+\])?: +([0-9a-f]+)$", out, re.M)))


def test_encode_key_exact_bytes_v4_and_v6(cli):
    der = spki("rpk-p384.pem")
    value = b"\x0f" + der
    out = run("encode", "--family", "4", "--uri", URI, "--public-key", DATA / "rpk-p384.pem", check=0).stdout
    assert f"server-certificate: code 225, value {len(value)} octets, wire {len(value) + 2} octets" in out
    assert f"  wire:  {(bytes([225, len(value)]) + value).hex()}" in out
    assert "  key type: EC P-384 (SubjectPublicKeyInfo, 120 octets)" in out
    assert f"  sha256: {openssl_fingerprint(der)}" in out
    out = run("encode", "--family", "6", "--uri", URI, "--public-key", DATA / "rpk-p256.der", check=0).stdout
    value = b"\x0f" + (DATA / "rpk-p256.der").read_bytes()
    assert f"  wire:  {(bytes([0, 201, 0, len(value)]) + value).hex()}" in out


def test_encode_refusals(cli):
    result = run("encode", "--family", "4", "--uri", URI, "--public-key", DATA / "rpk-rsa2048.pem", check=2)
    assert "is an RSA key (294 octets of SubjectPublicKeyInfo); give an EC P-256, EC P-384 or Ed25519 key" in result.stderr
    result = run("encode", "--family", "4", "--uri", URI, "--public-key", DATA / "small.pem", check=2)
    assert "holds an X.509 certificate; name it with 'server-certificate'" in result.stderr
    result = run("encode", "--family", "4", "--uri", URI, "--public-key", DATA / "rpk-p256.pem",
                 "--cert", DATA / "small.pem", check=2)
    assert "give --cert or --public-key, not both" in result.stderr


def test_decode_round_trip_shows_encoding_key_type_and_fingerprint(cli):
    for family, name, key_type in ((4, "rpk-ed25519.pem", "Ed25519"), (6, "rpk-p256.pem", "EC P-256")):
        out = run("encode", "--family", family, "--uri", URI, "--public-key", DATA / name, check=0).stdout
        payload = wires(out).hex()
        result = run("decode", ("63825363" + payload + "ff") if family == 4 else payload,
                     *(["--family", "6"] if family == 6 else []), check=0)
        der = spki(name)
        assert f" {len(der) + 1} octets): encoding 15, raw public key, {len(der)} octets" in result.stdout
        assert f"  key type: {key_type} (SubjectPublicKeyInfo, {len(der)} octets)" in result.stdout
        assert f"  sha256: {openssl_fingerprint(der)}" in result.stdout
        assert "subject:" not in result.stdout


def test_decode_refused_key_is_shown_not_fatal(cli):
    rsa = spki("rpk-rsa2048.pem")
    value = b"\x0f" + rsa
    area = bytes([0, 201]) + len(value).to_bytes(2, "big") + value
    result = run("decode", area.hex(), "--family", "6", check=0)
    assert "encoding 15 (raw public key) but the SubjectPublicKeyInfo is an RSA key" in result.stdout


def test_check_counts_keys_and_names_problems(cli, tmp_path):
    for name in ("rpk-p256.pem", "rpk-ed25519.pem", "small.pem"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    store = write_store(tmp_path, [
        {"subnet": "192.0.2.0/24", "bootstrap-uri": URI, "server-public-key": "rpk-p256.pem"},
        {"subnet-id": 7, "server-public-key": "rpk-ed25519.pem"},
        {"subnet": "198.51.100.0/24", "bootstrap-uri": URI, "server-certificate": "small.pem"},
    ])
    result = run("check", store, "--family", "4", check=0)
    assert f"{store}: DHCPv4: 3 entries, 1 certificate, 2 raw public keys; option codes 224 (URI), 225 (certificate)" \
        in result.stdout
    private = tmp_path / "private.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    str(private)], check=True, capture_output=True)
    bad = write_store(tmp_path, [
        {"subnet-id": 1, "bootstrap-uri": URI, "server-public-key": "private.pem"},
        {"subnet-id": 2, "bootstrap-uri": URI, "server-public-key": "rpk-p256.pem", "server-certificate": "small.pem"},
    ], name="bad.json")
    result = run("check", bad, check=1)
    assert (f"{bad}:1: subnet-id 1: server-public-key '{private}' holds a private key; give the server's public key "
            "only, and keep the private key away from this file") in result.stdout + result.stderr
    assert (f"{bad}:2: subnet-id 2: give 'server-certificate' (X.509) or 'server-public-key' (raw public key), "
            "not both") in result.stdout + result.stderr


def test_explain_names_the_key_and_shows_its_bytes(cli, tmp_path):
    store = write_store(tmp_path, [
        {"subnet": "192.0.2.0/24", "bootstrap-uri": URI, "server-certificate": str(DATA / "small.pem")},
        {"subnet-id": 1, "server-public-key": str(DATA / "rpk-p384.pem")},
    ])
    out = run("explain", store, "--subnet-id", 1, "--address", "192.0.2.9/24", check=0).stdout
    der = spki("rpk-p384.pem")
    assert "result: entry 1 (subnet 192.0.2.0/24) applies" in out
    assert (f"  server-public-key: {DATA / 'rpk-p384.pem'} (120 octets SubjectPublicKeyInfo, encoding 15, "
            "from entry 2 (subnet-id 1))") in out
    assert f"    sha256: {openssl_fingerprint(der)}" in out
    block = out.split("certificate option (code 225)", 1)[1]
    wire = bytes.fromhex("".join(re.findall(r"^  (?:\[\d+\] )?([0-9a-f]+)$", block, re.M)))
    assert wire == bytes([225, len(der) + 1, 0x0F]) + der
    assert der != der_of(DATA / "small.pem")
