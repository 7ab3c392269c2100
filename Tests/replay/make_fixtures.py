#!/usr/bin/env python3
"""Build the client packets of the replay suite and write fixtures/<name>.pcap.

Every fixture is one Ethernet frame that can be sent as-is from the lab's
client namespace (see lwm2mlab/netns.py for the addresses): direct DHCPv4 clients
broadcast from 0.0.0.0 (INFORM from its ciaddr) with the broadcast flag set,
direct DHCPv6 clients multicast from lab.CLIENT6_LL to ff02::1:2, and relayed
packets come from a relay address the client namespace owns (the lab sends
those through a UDP socket).  Each fixture has its own chaddr / DUID and xid.

`FIXTURES` maps a fixture name to its frame builder and to the lab subnet
("A", "B" or "C") Kea must select for it; the tests import it.  The builders
(`dhcp4_query`, `dhcp6_query`) are reusable for packets made at test time.

Run:  python3 Tests/replay/make_fixtures.py      (rewrites all pcaps)
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Callable

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import (DHCP6_InfoRequest, DHCP6_Rebind, DHCP6_RelayForward,
                                DHCP6_Renew, DHCP6_Request, DHCP6_Solicit, DHCP6OptClientId, DHCP6OptElapsedTime,
                                DHCP6OptIA_NA, DHCP6OptIAAddress, DHCP6OptOptReq,
                                DHCP6OptRelayMsg, DHCP6OptServerId, DUID_LL)
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # the repo root: lwm2mlab
import lwm2mlab as lab  # noqa: E402

HERE = Path(__file__).resolve().parent
FIXTURE_DIR = HERE / "fixtures"

# Option codes the hook uses by default.
LWM2M4 = (224, 225)          # bootstrap-uri, server-certificate (DHCPv4)
LWM2M6 = (200, 201)          # the same for DHCPv6
PRL_BASE = [1, 3, 6, 15, 51]
ORO_BASE = [23, 24]

_DHCP4_TYPES = {"discover": 1, "request": 3, "inform": 8}


def mac(n: int) -> str:
    """Fixture client MAC number n (locally administered, distinct per fixture)."""
    return f"02:4c:57:4d:00:{n:02x}"


def dhcp4_query(kind: str, n: int, prl: list[int], max_size: int | None = None,
                relay: str | None = None, ciaddr: str | None = None,
                requested: str | None = None, unicast: bool = False) -> Ether:
    """A DHCPv4 client message as a frame sendable from the client namespace.

    kind: "discover", "request" or "inform"; n: fixture number (chaddr and xid);
    prl: option 55; max_size: option 57; relay: giaddr (hops=1, sent by the
    relay from <relay>:67 to the server); ciaddr: INFORM or renewing REQUEST
    (sent from it); requested: option 50 (REQUEST in SELECTING state, also
    adds option 54); unicast: to the server's MAC and address (renewing),
    else broadcast with the broadcast flag set.
    """
    options: list = [("message-type", _DHCP4_TYPES[kind])]
    if requested:
        options += [("requested_addr", requested), ("server_id", lab.SERVER4)]
    if max_size is not None:
        options.append(("max_dhcp_size", max_size))
    options += [("param_req_list", prl), "end"]
    bootp = BOOTP(op=1, xid=0x4C570000 + n, chaddr=bytes.fromhex(mac(n).replace(":", "")),
                  flags=0 if relay or unicast else 0x8000, ciaddr=ciaddr or "0.0.0.0",
                  giaddr=relay or "0.0.0.0", hops=1 if relay else 0)
    if relay:
        head = (Ether(src=lab.CLIENT_MAC, dst=lab.SERVER_MAC)
                / IP(src=relay, dst=lab.SERVER4) / UDP(sport=67, dport=67))
    elif unicast:
        head = (Ether(src=mac(n), dst=lab.SERVER_MAC)
                / IP(src=ciaddr, dst=lab.SERVER4) / UDP(sport=68, dport=67))
    else:
        head = (Ether(src=mac(n), dst="ff:ff:ff:ff:ff:ff")
                / IP(src=ciaddr or "0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67))
    return head / bootp / DHCP(options=options)


_DHCP6_TYPES = {"solicit": DHCP6_Solicit, "request": DHCP6_Request, "renew": DHCP6_Renew,
                "rebind": DHCP6_Rebind, "information-request": DHCP6_InfoRequest}


def dhcp6_query(kind: str, n: int, oro: list[int], relay_link: str | None = None,
                address: str | None = None) -> Ether:
    """A DHCPv6 client message as a frame sendable from the client namespace.

    kind: "solicit", "request", "renew", "rebind" or "information-request";
    n: fixture number (DUID-LL and transaction-id); oro: option 6; relay_link:
    wrap the message in RELAY-FORW with this link-address, sent from
    lab.CLIENT6 to lab.SERVER6 port 547; address: IA_NA address.  REQUEST and
    RENEW carry the server-id Kea is configured with (lab.SERVER_DUID).
    """
    msg = _DHCP6_TYPES[kind](trid=0x570000 + n)
    msg /= DHCP6OptClientId(duid=DUID_LL(lladdr=mac(n)))
    if kind in ("request", "renew"):
        msg /= DHCP6OptServerId(duid=lab.SERVER_DUID)
    if kind != "information-request":
        ia = DHCP6OptIA_NA(iaid=n, T1=0, T2=0)
        if address:
            ia.ianaopts = [DHCP6OptIAAddress(addr=address, preflft=0, validlft=0)]
        msg /= ia
    msg /= DHCP6OptElapsedTime(elapsedtime=0) / DHCP6OptOptReq(reqopts=oro)
    if relay_link:
        return (Ether(src=lab.CLIENT_MAC, dst=lab.SERVER_MAC)
                / IPv6(src=lab.CLIENT6, dst=lab.SERVER6, hlim=64) / UDP(sport=547, dport=547)
                / DHCP6_RelayForward(hopcount=0, linkaddr=relay_link,
                                     peeraddr=f"fe80::4c57:{n:x}")
                / DHCP6OptRelayMsg(message=msg))
    return (Ether(src=mac(n), dst="33:33:00:01:00:02")
            / IPv6(src=lab.CLIENT6_LL, dst="ff02::1:2", hlim=1) / UDP(sport=546, dport=547)
            / msg)


@dataclasses.dataclass(frozen=True)
class Fixture:
    """One fixture: how to build it and which lab subnet Kea must select."""
    name: str
    subnet: str
    build: Callable[[], Ether]

    @property
    def family(self) -> int:
        return 4 if self.name.startswith("v4") else 6

    @property
    def path(self) -> Path:
        return FIXTURE_DIR / f"{self.name}.pcap"

    def frame(self) -> Ether:
        """The committed frame (from the pcap)."""
        (frame,) = lab.read_pcap(self.path)
        return frame


def _fixtures() -> dict[str, Fixture]:
    with4, with6 = PRL_BASE + list(LWM2M4), ORO_BASE + list(LWM2M6)
    a4 = lab.SUBNETS[4]["A"][0].rsplit(".", 1)[0]        # "192.0.2"
    q4, q6 = dhcp4_query, dhcp6_query
    specs = [
        # name, subnet, builder
        ("v4_discover_lwm2m", "A", lambda: q4("discover", 1, with4)),
        ("v4_discover_plain", "A", lambda: q4("discover", 2, PRL_BASE)),
        ("v4_request_lwm2m", "A", lambda: q4("request", 3, with4, max_size=1500,
                                             requested=f"{a4}.103")),
        ("v4_request_plain", "A", lambda: q4("request", 4, PRL_BASE, requested=f"{a4}.104")),
        ("v4_discover_mms576", "A", lambda: q4("discover", 5, with4, max_size=576)),
        ("v4_discover_mms1500", "A", lambda: q4("discover", 6, with4, max_size=1500)),
        ("v4_discover_mms300", "A", lambda: q4("discover", 7, with4, max_size=300)),
        ("v4_discover_uri_only", "A", lambda: q4("discover", 8, PRL_BASE + [LWM2M4[0]],
                                                 max_size=1500)),
        ("v4_discover_relay_b", "B", lambda: q4("discover", 9, with4, max_size=1500,
                                                relay=lab.RELAY4["B"])),
        ("v4_discover_relay_c", "C", lambda: q4("discover", 10, with4, relay=lab.RELAY4["C"])),
        ("v4_inform_lwm2m", "A", lambda: q4("inform", 11, with4, max_size=1500,
                                            ciaddr=f"{a4}.50")),
        ("v4_renew_lwm2m", "A", lambda: q4("request", 12, with4, max_size=1500,
                                           ciaddr=f"{a4}.112", unicast=True)),
        ("v6_solicit_lwm2m", "A", lambda: q6("solicit", 0x61, with6)),
        ("v6_solicit_plain", "A", lambda: q6("solicit", 0x62, ORO_BASE)),
        ("v6_request_lwm2m", "A", lambda: q6("request", 0x63, with6, address="2001:db8:1::163")),
        ("v6_request_plain", "A", lambda: q6("request", 0x64, ORO_BASE, address="2001:db8:1::164")),
        ("v6_inforeq_lwm2m", "A", lambda: q6("information-request", 0x65, with6)),
        ("v6_inforeq_plain", "A", lambda: q6("information-request", 0x66, ORO_BASE)),
        ("v6_renew_lwm2m", "A", lambda: q6("renew", 0x6a, with6, address="2001:db8:1::16a")),
        ("v6_rebind_lwm2m", "A", lambda: q6("rebind", 0x6b, with6, address="2001:db8:1::16b")),
        ("v6_solicit_uri_only", "A", lambda: q6("solicit", 0x67, ORO_BASE + [LWM2M6[0]])),
        ("v6_solicit_relay_b", "B", lambda: q6("solicit", 0x68, with6, relay_link="2001:db8:2::1")),
        ("v6_solicit_relay_c", "C", lambda: q6("solicit", 0x69, with6, relay_link="2001:db8:3::1")),
    ]
    return {name: Fixture(name, subnet, build) for name, subnet, build in specs}


FIXTURES = _fixtures()


def write_all() -> None:
    """(Re)write every fixture pcap, with a fixed timestamp so files are reproducible."""
    FIXTURE_DIR.mkdir(exist_ok=True)
    for fx in FIXTURES.values():
        frame = Ether(bytes(fx.build()))
        frame.time = 1_700_000_000
        wrpcap(str(fx.path), [frame])
        print(f"{fx.path.relative_to(HERE)}: {len(frame)} bytes, subnet {fx.subnet}")


if __name__ == "__main__":
    write_all()
