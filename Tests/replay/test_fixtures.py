"""Offline checks of the committed fixtures and certificates (no Kea, no root)."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from scapy.layers.l2 import Ether

import lwm2mlab as lab
import make_fixtures as mf

FIXTURES = list(mf.FIXTURES.values())
DATA = mf.HERE / "data"


@pytest.mark.parametrize("fx", FIXTURES, ids=lambda f: f.name)
def test_pcap_matches_builder(fx):
    """The committed pcap is what make_fixtures.py builds (re-run it if not)."""
    assert fx.path.is_file(), f"missing {fx.path}: run make_fixtures.py"
    assert bytes(fx.frame()) == bytes(Ether(bytes(fx.build())))


def client_identity(msg: lab.Message) -> bytes:
    """chaddr (v4) or client DUID (v6)."""
    return msg.raw[28:34] if msg.family == 4 else msg.value(1)


def test_fixtures_have_distinct_clients_and_xids():
    msgs = [lab.decode(fx.frame()) for fx in FIXTURES]
    assert len({client_identity(m) for m in msgs}) == len(msgs)
    assert len({(m.family, m.xid) for m in msgs}) == len(msgs)


@pytest.mark.parametrize("fx", FIXTURES, ids=lambda f: f.name)
def test_requested_codes_follow_the_name(fx):
    """*_lwm2m and relayed fixtures ask for both codes, *_uri_only for the URI, others none."""
    uri, cert = lab.DEFAULT_CODES[fx.family]
    asked = lab.requested_codes(lab.decode(fx.frame())) & {uri, cert}
    if "plain" in fx.name:
        assert asked == set()
    elif "uri_only" in fx.name:
        assert asked == {uri}
    else:
        assert asked == {uri, cert}


@pytest.mark.parametrize("fx", [f for f in FIXTURES if f.family == 4], ids=lambda f: f.name)
def test_v4_max_message_size(fx):
    expect = {"v4_discover_mms576": 576, "v4_discover_mms1500": 1500, "v4_discover_mms300": 300,
              "v4_request_lwm2m": 1500, "v4_inform_lwm2m": 1500, "v4_discover_uri_only": 1500,
              "v4_discover_relay_b": 1500, "v4_renew_lwm2m": 1500}
    mms = lab.decode(fx.frame()).value(57)
    assert (int.from_bytes(mms, "big") if mms else None) == expect.get(fx.name)


@pytest.mark.parametrize("fx", FIXTURES, ids=lambda f: f.name)
def test_relay_addressing(fx):
    """Relayed fixtures point Kea at their subnet; direct ones are on subnet A."""
    frame = fx.frame()
    msg = lab.decode(frame)
    assert lab.is_relayed(frame) == ("relay" in fx.name)
    net = ipaddress.ip_network(lab.SUBNETS[fx.family][fx.subnet][0])
    if not lab.is_relayed(frame):
        assert fx.subnet == "A"
    elif fx.family == 4:
        assert ipaddress.ip_address(msg.raw[24:28]) in net and msg.raw[3] == 1  # giaddr, hops
    else:
        relay = bytes(frame.payload.payload.payload)
        assert ipaddress.ip_address(relay[2:18]) in net                        # link-address


def test_certificates():
    """small: EC P-256 needing two DHCPv4 options; small-compressed: the same in
    one option; large: RSA-2048 that never fits 576; large.der: DER of large.pem;
    xlarge: fits no DHCPv4 reply at all."""
    def load(name):
        return x509.load_pem_x509_certificate((DATA / name).read_bytes())
    small, compressed, large = load("small.pem"), load("small-compressed.pem"), load("large.pem")
    xlarge = load("xlarge.pem")
    for cert in (small, compressed):
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
        assert cert.public_key().curve.name == "secp256r1"
    assert small.public_key().public_numbers() == compressed.public_key().public_numbers()
    assert isinstance(large.public_key(), rsa.RSAPublicKey) and large.public_key().key_size == 2048
    assert 255 < len(small.public_bytes(Encoding.DER)) + 1 <= 2 * 255
    assert len(compressed.public_bytes(Encoding.DER)) + 1 <= 255
    assert len(large.public_bytes(Encoding.DER)) > lab.V4_MIN_SIZE    # can never fit 576
    assert (DATA / "large.der").read_bytes() == large.public_bytes(Encoding.DER)
    # Even next to a bare DHCP header (IP+UDP+BOOTP+cookie+53+end) it exceeds 1500.
    bare = 20 + 8 + 240 + 3 + 1
    assert bare + lab.v4_encoded_len(len(xlarge.public_bytes(Encoding.DER)) + 1) > lab.V4_MAX_SIZE
