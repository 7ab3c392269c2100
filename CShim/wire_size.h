// The size of a DHCPv4 reply on the wire, before it is packed.
#ifndef LWM2M_WIRE_SIZE_H
#define LWM2M_WIRE_SIZE_H

#include <dhcp/pkt4.h>

#include <cstddef>

namespace lwm2m {

/// The size of a DHCPv4 reply on the wire as it stands: fixed header, magic
/// cookie, every option (with the extra headers Kea's splitter adds to values
/// over 253 octets) and END.
size_t dhcpv4WireSize(const isc::dhcp::Pkt4& response);

} // namespace lwm2m

#endif
