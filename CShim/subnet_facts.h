// The subnet facts of one exchange: the subnet Kea selected and, when it is
// in a shared network, the network's subnets and the address the reply
// leases. Which subnet's entries apply is the core's decision.
#ifndef LWM2M_SUBNET_FACTS_H
#define LWM2M_SUBNET_FACTS_H

#include "kea_compat.h"
#include "lwm2m_core.h"

#include <asiolink/io_address.h>
#include <dhcp/pkt.h>
#include <dhcp/pkt4.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lwm2m {

/// `address` as 4 (IPv4) or 16 (IPv6) octets into `out`; returns how many.
/// IOAddress gives IPv6 octets only in a new vector: callers on the packet
/// path cache what they can.
size_t addressBytes(const isc::asiolink::IOAddress& address, uint8_t (&out)[16]);

/// The subnet facts of the exchange: the subnet Kea selected and, when it is
/// in a shared network, the network's subnets and the leased address (Kea
/// may lease from another subnet of the network; the core decides whose
/// entries apply). A subnet outside a shared network costs no more than its
/// own id and prefix.
void readSubnetFacts(const kea::ConstSubnetPtr& selected, const isc::dhcp::Pkt* response,
                     const isc::dhcp::Pkt4* response4, lwm2m_exchange& exchange);

/// The subnet whose entries applied (`id`, from the core's answer) as the log
/// names it: the selected subnet or another subnet of its shared network.
std::string subnetLabel(const kea::ConstSubnetPtr& selected, uint32_t id, bool v4);

} // namespace lwm2m

#endif
