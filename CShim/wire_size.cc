// The DHCPv4 wire size; see wire_size.h.
#include "kea_compat.h"

#include "wire_size.h"

using isc::dhcp::Pkt4;

namespace lwm2m {

size_t
dhcpv4WireSize(const Pkt4& response) {
    size_t size = Pkt4::DHCPV4_PKT_HDR_LEN + 4 + 1;
    for (auto const& entry : response.options_) {
        size_t length = entry.second->len();
        size_t header = entry.second->getHeaderLen();
        size_t data = length > header ? length - header : 0;
        const size_t chunk = 255 - header;
        size += data > chunk ? data + header * ((data + chunk - 1) / chunk) : length;
    }
    return (size);
}

} // namespace lwm2m
