"""kea-lwm2m encode: exact bytes (a contract) and Kea's native JSON."""

from __future__ import annotations

import json

import pytest

from conftest import DATA, der_of, openssl_fingerprint, run

URI = "coaps://bs.example.com:5684"


def v4_instances(code: int, value: bytes) -> list[bytes]:
    """RFC 3396: 255-octet parts but the last, each with the same code (computed here)."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)] or [b""]
    return [bytes([code, len(p)]) + p for p in parts]


def test_v4_uri_exact_output(cli):
    result = run("encode", "--family", "4", "--uri", URI, check=0)
    value = URI.encode()
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "DHCPv4, option codes 224 (URI), 225 (certificate)",
        f"bootstrap-uri: code 224, value {len(value)} octets, wire {len(value) + 2} octets",
        f"  value: {value.hex()}",
        f"  wire:  {(bytes([224, len(value)]) + value).hex()}",
    ]


def test_v4_certificate_split_per_rfc3396(cli):
    pem = DATA / "large.pem"
    value = b"\x04" + der_of(pem)
    result = run("encode", "--family", "4", "--uri", URI, "--cert", pem, "--cert-code", 240, check=0)
    parts = v4_instances(240, value)
    assert len(parts) > 1
    assert (f"server-certificate: code 240, value {len(value)} octets, wire {sum(map(len, parts))} octets, "
            f"{len(parts)} instances (RFC 3396)") in result.stdout
    assert f"  value: {value.hex()}" in result.stdout
    for number, part in enumerate(parts, 1):
        assert f"  wire[{number}]: {part.hex()}" in result.stdout
    assert f"  sha256: {openssl_fingerprint(der_of(pem))}" in result.stdout


def test_v6_exact_wire(cli):
    pem = DATA / "small.pem"
    value = b"\x04" + der_of(pem)
    result = run("encode", "--family", "6", "--uri", URI, "--cert", pem, "--uri-code", 300, check=0)
    uri = URI.encode()
    assert f"  wire:  {(bytes([1, 44, 0, len(uri)]) + uri).hex()}" in result.stdout
    assert f"  wire:  {(bytes([0, 201]) + len(value).to_bytes(2, 'big') + value).hex()}" in result.stdout


@pytest.mark.parametrize("family,space,codes", [(4, "dhcp4", (224, 225)), (6, "dhcp6", (200, 201))])
def test_kea_native_json(cli, family, space, codes):
    pem = DATA / "small.pem"
    result = run("encode", "--family", family, "--uri", URI, "--cert", pem, "--kea-json", check=0)
    native = json.loads(result.stdout)
    assert native["option-def"] == [
        {"name": "lwm2m-bootstrap-uri", "code": codes[0], "space": space, "type": "string"},
        {"name": "lwm2m-server-certificate", "code": codes[1], "space": space, "type": "binary"}]
    assert native["option-data"] == [
        {"name": "lwm2m-bootstrap-uri", "space": space, "data": URI},
        {"name": "lwm2m-server-certificate", "space": space, "csv-format": False,
         "data": (b"\x04" + der_of(pem)).hex()}]


def test_full_output_ends_with_the_same_json(cli):
    full = run("encode", "--family", "4", "--uri", URI, check=0).stdout
    only = run("encode", "--family", "4", "--uri", URI, "--kea-json", check=0).stdout
    assert full.endswith(only)


@pytest.mark.parametrize("args,needle", [
    (["--family", "4", "--uri", "http://bs.example.com"], "--uri 'http://bs.example.com'"),
    (["--family", "4", "--uri", URI, "--uri-code", "6"], "--uri-code: must be an integer from 224 to 254"),
    (["--family", "6", "--uri", URI, "--uri-code", "23"], "option code 23 is already defined in Kea's DHCPv6 option space"),
    (["--family", "4", "--uri", URI, "--uri-code", "230", "--cert-code", "230"], "--cert-code: must differ"),
    (["--family", "4", "--uri", URI, "--cert", "/nonexistent.pem"], "/nonexistent.pem: cannot open"),
    (["--family", "5", "--uri", URI], "--family"),
    (["--uri", URI], "--family"),
])
def test_bad_input_is_one_line_status_2(cli, args, needle):
    result = run("encode", *args, check=2)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert needle in result.stderr


def test_private_key_refused(cli, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "with-key.pem"
    pem.write_bytes((DATA / "small.pem").read_bytes() + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    result = run("encode", "--family", "4", "--uri", URI, "--cert", pem, check=2)
    assert "holds a private key" in result.stderr
