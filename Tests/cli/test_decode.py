"""kea-lwm2m decode: payloads and captures, including real Kea replies."""

from __future__ import annotations

import os
import re

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import DHCP6_RelayReply, DHCP6_Reply, DHCP6OptRelayMsg, DHCP6OptUnknown
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether
from scapy.utils import wrpcap

import lwm2mlab as lab
import make_fixtures as mf
from conftest import DATA, der_of, needs_root, openssl_fingerprint, run, write_store

URI = "coaps://bs.example.com:5684"


def encoded(family: int, pem, codes=None) -> str:
    """The wire bytes `encode` prints, concatenated (already checked by test_encode)."""
    args = ["encode", "--family", family, "--uri", URI, "--cert", pem]
    if codes:
        args += ["--uri-code", codes[0], "--cert-code", codes[1]]
    out = run(*args, check=0).stdout
    return "".join(re.findall(r"^  wire(?:\[\d+\])?: +([0-9a-f]+)$", out, re.M))


def test_v4_payload_round_trip_with_split_certificate(cli):
    pem = DATA / "large.pem"
    hexdata = encoded(4, pem)
    result = run("decode", "63825363" + hexdata + "ff", check=0)
    der = der_of(pem)
    assert f"bootstrap-uri (code 224, 1 instance, {len(URI)} octets): {URI}" in result.stdout
    assert f"server-certificate (code 225, 4 instances, {len(der) + 1} octets): X.509 DER, {len(der)} octets" in result.stdout
    assert f"  sha256: {openssl_fingerprint(der)}" in result.stdout
    assert "  subject: " in result.stdout and "  issuer: " in result.stdout and "  valid: " in result.stdout


def test_v4_interleaved_instances_are_concatenated_in_order(cli):
    """Other options between the parts (RFC 3396 allows it)."""
    value = b"\x04" + der_of(DATA / "small.pem")
    first, second = value[:100], value[100:]
    area = bytes([225, len(first)]) + first + bytes([53, 1, 2, 224, 4]) + b"coap" + bytes([225, len(second)]) + second
    result = run("decode", area.hex(), check=0)
    assert "server-certificate (code 225, 2 instances" in result.stdout
    assert openssl_fingerprint(value[1:]) in result.stdout
    assert "[the hook would refuse it" in result.stdout   # "coap" alone is no URI


def test_v6_payload_and_codes(cli):
    pem = DATA / "small.pem"
    hexdata = encoded(6, pem, codes=(1000, 1001))
    result = run("decode", hexdata, "--family", "6", "--codes", "1000,1001", check=0)
    assert f"bootstrap-uri (code 1000, {len(URI)} octets): {URI}" in result.stdout
    assert openssl_fingerprint(der_of(pem)) in result.stdout
    # With the default codes, nothing of ours: status 1.
    result = run("decode", hexdata, "--family", "6", check=1)
    assert result.stdout.strip() == "no LwM2M options (codes 200, 201)"


@pytest.mark.parametrize("args,needle", [
    (["e0ff00"], "DHCPv4 option 224 at offset 0 runs past the end"),
    (["00c8"], "runs past the end"),
    (["00c8000a0102", "--family", "6"], "DHCPv6 option 200 at offset 0 runs past the end"),
    (["abc"], "not an even number of hex digits"),
    (["e0", "--codes", "1"], "--codes"),
    ([], "give either HEX or --pcap FILE"),
    (["--pcap", "/nonexistent.pcap"], "/nonexistent.pcap: cannot open"),
])
def test_bad_payloads(cli, args, needle):
    result = run("decode", *args, check=2)
    assert len(result.stderr.strip().splitlines()) == 1
    assert needle in result.stderr


def test_certificate_with_unknown_encoding_is_shown_not_fatal(cli):
    result = run("decode", "e103050102", check=0)
    assert "certificate encoding 5, not 4 (X.509 DER)" in result.stdout


# ---- captures ----------------------------------------------------------------

def frames_v4(value_cert: bytes) -> list:
    cert_opts = [(225, value_cert[i:i + 255]) for i in range(0, len(value_cert), 255)]
    offer = (Ether() / IP(src="192.0.2.1", dst="192.0.2.50") / UDP(sport=67, dport=68)
             / BOOTP(op=2, xid=0x1234) / DHCP(options=[("message-type", 2), (224, URI.encode())] + cert_opts + ["end"]))
    discover = (Ether() / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
                / BOOTP(op=1, xid=0x1234) / DHCP(options=[("message-type", 1), "end"]))
    return [discover, offer]


def frame_v6_relayed(value_cert: bytes):
    inner = DHCP6_Reply(trid=0xabcdef) / DHCP6OptUnknown(optcode=200, data=URI.encode()) \
        / DHCP6OptUnknown(optcode=201, data=value_cert)
    return (Ether() / IPv6(src="2001:db8:1::1", dst="2001:db8:1::2") / UDP(sport=547, dport=547)
            / DHCP6_RelayReply(linkaddr="2001:db8:2::1", peeraddr="fe80::5") / DHCP6OptRelayMsg(message=inner))


def test_pcap_ethernet_vlan_and_relay_reply(cli, tmp_path):
    value = b"\x04" + der_of(DATA / "large.pem")
    frames = frames_v4(value) + [frame_v6_relayed(value)]
    tagged = Ether() / Dot1Q(vlan=7) / frames[1][IP]
    path = tmp_path / "replies.pcap"
    wrpcap(str(path), frames + [tagged])
    result = run("decode", "--pcap", path, check=0)
    out = result.stdout
    assert "packet 1" not in out                      # the DISCOVER is no reply
    assert "packet 2 at " in out and "DHCPv4 OFFER xid 0x1234 192.0.2.1 -> 192.0.2.50" in out
    assert "packet 3 at " in out and "DHCPv6 REPLY xid 0xabcdef 2001:db8:1::1 -> 2001:db8:1::2 (relayed, 1 hop)" in out
    assert "packet 4 at " in out
    assert out.count(f": {URI}") == 3
    assert out.count(openssl_fingerprint(value[1:])) == 3
    assert out.count("4 instances") == 2
    assert out.splitlines()[-1] == "3 server replies, 3 with LwM2M options"
    # --family filters.
    only6 = run("decode", "--pcap", path, "--family", "6", check=0).stdout
    assert only6.splitlines()[-1] == "1 server reply, 1 with LwM2M options"


def test_pcap_linux_cooked(cli, tmp_path):
    value = b"\x04" + der_of(DATA / "small.pem")
    frame = CookedLinux(proto=0x0800) / frames_v4(value)[1][IP]
    path = tmp_path / "cooked.pcap"
    wrpcap(str(path), [frame])
    result = run("decode", "--pcap", path, check=0)
    assert "DHCPv4 OFFER" in result.stdout and URI in result.stdout


def test_pcap_without_our_options_is_status_1(cli):
    """The committed fixtures are client queries: no server reply at all."""
    result = run("decode", "--pcap", mf.FIXTURES["v4_discover_lwm2m"].path, check=1)
    assert result.stdout.splitlines()[-1] == "0 server replies, 0 with LwM2M options"


def test_bad_captures_are_one_line_status_2(cli, tmp_path):
    good = tmp_path / "good.pcap"
    wrpcap(str(good), frames_v4(b"\x04" + der_of(DATA / "small.pem")))
    data = good.read_bytes()
    cases = {
        "truncated.pcap": (data[:-10], "truncated"),
        "header.pcap": (data[:10], "shorter than a pcap header"),
        "garbage.pcap": (os.urandom(64).replace(b"\xa1", b"\x00").replace(b"\xd4", b"\x00"), "not a pcap file"),
        "ng.pcapng": (bytes.fromhex("0a0d0d0a") + b"\0" * 40, "pcapng is not supported"),
        "huge.pcap": (data[:24] + b"\0" * 8 + (10**8).to_bytes(4, "little") + b"\0" * 4, "implausible"),
    }
    # A DHCPv4 reply whose options claim more than the packet holds.
    bad = frames_v4(b"")[1]
    raw = bytearray(bytes(bad))
    raw[-1:] = b"\xe0\xff"       # option 224, length 255, no data
    broken = tmp_path / "broken-options.pcap"
    wrpcap(str(broken), [Ether(bytes(raw))])
    for name, (content, needle) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = run("decode", "--pcap", path, check=2)
        assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run("decode", "--pcap", broken, check=2)
    assert "runs past the end" in result.stderr


@needs_root
def test_pcap_of_real_kea_replies(cli, hook, tmp_path):
    """Real kea-dhcp4 and kea-dhcp6 with the hook answer the committed
    fixtures (direct and relayed); the replies, written to a capture, decode
    to the store's URIs and certificates."""
    store = write_store(tmp_path, [
        {"subnet-id": 1, "bootstrap-uri": URI, "server-certificate": str(DATA / "large.pem")},
        {"subnet": "2001:db8:1::/64", "bootstrap-uri": URI, "server-certificate": str(DATA / "large.pem")},
        {"subnet-id": 12, "bootstrap-uri": "coap://[2001:db8::b]:5683", "server-certificate": str(DATA / "small.pem")},
    ])
    replies = []
    with lab.Lab() as net:
        for family, names in ((4, ["v4_discover_mms1500"]), (6, ["v6_solicit_lwm2m", "v6_solicit_relay_b"])):
            with lab.KeaServer(net, family, lab.base_config(family, hook, {"store-file": str(store)})):
                got = net.exchange([mf.FIXTURES[name].frame() for name in names])
                for frames in got.values():
                    assert frames, "Kea did not answer"
                    replies.extend(frames)
    path = tmp_path / "kea.pcap"
    wrpcap(str(path), replies)
    out = run("decode", "--pcap", path, check=0).stdout
    assert out.splitlines()[-1] == "3 server replies, 3 with LwM2M options"
    assert "DHCPv4 OFFER" in out and out.count("DHCPv6 ADVERTISE") == 2 and "(relayed, 1 hop)" in out
    assert out.count(openssl_fingerprint(der_of(DATA / "large.pem"))) == 2
    assert out.count(openssl_fingerprint(der_of(DATA / "small.pem"))) == 1
    assert "coap://[2001:db8::b]:5683" in out
