// Reading the subnet facts of an exchange; see subnet_facts.h.
#include "kea_compat.h"

#include "subnet_facts.h"

#include <dhcp/dhcp6.h>
#include <dhcp/option6_iaaddr.h>
#include <dhcpsrv/shared_network.h>

#include <boost/shared_ptr.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace isc::asiolink;
using namespace isc::dhcp;

namespace lwm2m {

namespace {

/// `subnet` as the core's lwm2m_subnet.
void subnetFact(const Subnet& subnet, lwm2m_subnet& out) {
    auto const prefix = subnet.get();
    std::memset(out.prefix, 0, sizeof(out.prefix));
    addressBytes(prefix.first, out.prefix);
    out.id = subnet.getID();
    out.prefix_length = prefix.second;
}

/// The selected subnet as the core's lwm2m_subnet. Each packet thread keeps
/// the last subnet it saw (held, so its address cannot be reused by another
/// object) with its fact: consecutive replies from one IPv6 subnet allocate
/// nothing.
void selectedSubnetFact(const kea::ConstSubnetPtr& subnet, lwm2m_subnet& out) {
    struct Cached {
        kea::ConstSubnetPtr subnet;
        lwm2m_subnet fact = {};
    };
    thread_local Cached cached;
    if (cached.subnet != subnet) {
        subnetFact(*subnet, cached.fact);
        cached.subnet = subnet;
    }
    out = cached.fact;
}

/// The subnets of `selected`'s shared network as facts, in Kea's order, into
/// the exchange; false when it is in none. Each packet thread keeps the last
/// network's list (its subnets held) and rebuilds it only when the network's
/// subnets differ, so a packet compares pointers and allocates nothing.
template <typename SharedNetworkPtrType>
bool readSharedNetwork(const kea::ConstSubnetPtr& selected, lwm2m_exchange& exchange) {
    SharedNetworkPtrType network;
    selected->getSharedNetwork(network);
    if (!network) {
        return (false);
    }
    struct Cached {
        std::vector<kea::ConstSubnetPtr> subnets;
        std::vector<lwm2m_subnet> facts;
    };
    thread_local Cached cached;
    auto const& subnets = *network->getAllSubnets();
    bool same = (subnets.size() == cached.subnets.size());
    size_t index = 0;
    for (auto it = subnets.begin(); same && it != subnets.end(); ++it, ++index) {
        same = (*it == cached.subnets[index]);
    }
    if (!same) {
        cached.subnets.clear();
        cached.facts.clear();
        for (auto const& subnet : subnets) {
            cached.subnets.push_back(subnet);
            cached.facts.emplace_back();
            subnetFact(*subnet, cached.facts.back());
        }
    }
    exchange.shared_network_subnets = cached.facts.data();
    exchange.shared_network_subnet_count = cached.facts.size();
    return (true);
}

/// The address the reply leases (DHCPv4 yiaddr, DHCPv6 the first IA_NA
/// address) into the exchange; none for INFORM, INFORMATION-REQUEST, PD.
void readLeasedAddress(const Pkt* response, const Pkt4* response4, lwm2m_exchange& exchange) {
    if (response4) {
        const IOAddress& yiaddr = response4->getYiaddr();
        exchange.has_leased_address = !yiaddr.isV4Zero();
        addressBytes(yiaddr, exchange.leased_address);
        return;
    }
    OptionPtr ia = const_cast<Pkt*>(response)->getOption(D6O_IA_NA);
    Option6IAAddrPtr lease = ia ? boost::dynamic_pointer_cast<Option6IAAddr>(ia->getOption(D6O_IAADDR))
                                : Option6IAAddrPtr();
    if (lease && lease->getAddress().isV6() && !lease->getAddress().isV6Zero()) {
        exchange.has_leased_address = (addressBytes(lease->getAddress(), exchange.leased_address) == 16);
    }
}

} // namespace

/// `address` as 4 (IPv4) or 16 (IPv6) octets into `out`; returns how many.
/// IOAddress gives IPv6 octets only in a new vector: callers on the packet
/// path cache what they can.
size_t
addressBytes(const IOAddress& address, uint8_t (&out)[16]) {
    if (address.isV4()) {
        const uint32_t value = address.toUint32();
        out[0] = static_cast<uint8_t>(value >> 24);
        out[1] = static_cast<uint8_t>(value >> 16);
        out[2] = static_cast<uint8_t>(value >> 8);
        out[3] = static_cast<uint8_t>(value);
        return (4);
    }
    const std::vector<uint8_t> raw = address.toBytes();
    const size_t size = std::min(raw.size(), sizeof(out));
    std::memcpy(out, raw.data(), size);
    return (size);
}

/// The subnet facts of the exchange: the subnet Kea selected and, when it is
/// in a shared network, the network's subnets and the leased address (Kea
/// may lease from another subnet of the network; the core decides whose
/// entries apply). A subnet outside a shared network costs no address work.
void
readSubnetFacts(const kea::ConstSubnetPtr& selected, const Pkt* response, const Pkt4* response4,
                lwm2m_exchange& exchange) {
    if (!selected) {
        return;
    }
    exchange.has_subnet = 1;
    selectedSubnetFact(selected, exchange.subnet);
    const bool in_network = response4 ? readSharedNetwork<SharedNetwork4Ptr>(selected, exchange)
                                      : readSharedNetwork<SharedNetwork6Ptr>(selected, exchange);
    if (in_network) {
        readLeasedAddress(response, response4, exchange);
    }
}

/// The subnet whose entries applied (`id`, from the core's answer) as the log
/// names it: the selected subnet or another subnet of its shared network.
std::string
subnetLabel(const kea::ConstSubnetPtr& selected, uint32_t id, bool v4) {
    if (!selected) {
        return ("(none selected)");
    }
    kea::ConstSubnetPtr subnet = selected;
    if (selected->getID() != id) {
        if (v4) {
            SharedNetwork4Ptr network;
            selected->getSharedNetwork(network);
            subnet = network ? kea::ConstSubnetPtr(network->getSubnet(id)) : kea::ConstSubnetPtr();
        } else {
            SharedNetwork6Ptr network;
            selected->getSharedNetwork(network);
            subnet = network ? kea::ConstSubnetPtr(network->getSubnet(id)) : kea::ConstSubnetPtr();
        }
    }
    return (subnet ? std::to_string(subnet->getID()) + " (" + subnet->toText() + ")" : std::to_string(id));
}

} // namespace lwm2m
