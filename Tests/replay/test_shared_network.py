"""Shared networks: Kea may select one subnet and then lease from a sibling
in the same shared network (here the selected subnet has no pool). The
options must follow the leased address, as Kea's own option-data does."""

from __future__ import annotations

import ipaddress

import pytest

import lwm2mlab as lab
import make_fixtures as mf

URI_FIRST = "coap://first.example"
URI_SECOND = "coap://second.example"

# (selected subnet: no pool, sibling with the pool, pool)
NETWORKS = {
    4: ("192.0.2.0/25", "192.0.2.128/25", "192.0.2.200 - 192.0.2.210"),
    6: ("2001:db8:1::/64", "2001:db8:9::/64", "2001:db8:9::100 - 2001:db8:9::1ff"),
}


def body(family: int, hook, store) -> dict:
    selected, sibling, pool = NETWORKS[family]
    return {
        "valid-lifetime": 3600,
        **({"preferred-lifetime": 3000} if family == 6 else {}),
        "shared-networks": [{
            "name": "meters",
            "interface": lab.SERVER_IF,
            f"subnet{family}": [
                {"id": 1, "subnet": selected},
                {"id": 2, "subnet": sibling, "pools": [{"pool": pool}]},
            ],
        }],
        "hooks-libraries": [{"library": str(hook), "parameters": {"store-file": str(store)}}],
    }


def leased_address(reply: lab.Message) -> ipaddress._BaseAddress:
    if reply.family == 4:
        return ipaddress.ip_address(reply.raw[16:20])
    ia_na = reply.value(3)
    return ipaddress.ip_address(ia_na[12 + 4:12 + 4 + 16])   # IAID, T1, T2, then IAADDR


@pytest.mark.parametrize("family", [4, 6])
def test_options_follow_the_leased_subnet(family, hook, kea_factory, tmp_path):
    selected, sibling, _ = NETWORKS[family]
    store = lab.write_store(tmp_path / "store.json", [
        {"subnet": selected, "bootstrap-uri": URI_FIRST},
        {"subnet": sibling, "bootstrap-uri": URI_SECOND},
    ], {})
    _, kea = kea_factory(family, body(family, hook, store))
    uri_code = lab.DEFAULT_CODES[family][0]
    frame = (mf.dhcp4_query("discover", 0x71, [1, 3, uri_code]) if family == 4
             else mf.dhcp6_query("solicit", 0x71, [23, uri_code]))
    query = lab.decode(frame)
    replies = lab_exchange(kea, frame)[query.xid]
    assert len(replies) == 1
    reply = lab.decode(replies[0])

    assert leased_address(reply) in ipaddress.ip_network(sibling), lab.describe(reply)
    # Kea selected the pool-less subnet first: the hook had to follow the lease.
    assert "the subnet with ID 1 was selected" in kea.log() or "subnet-id=1" in kea.log(), kea.output_tail()
    assert reply.value(uri_code) == URI_SECOND.encode(), lab.describe(reply)
    assert URI_FIRST.encode() not in reply.raw


def lab_exchange(kea: lab.KeaServer, frame) -> dict:
    return kea.lab.exchange([frame])
