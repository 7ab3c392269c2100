#include "kea_compat.h"

#include "wire_option.h"

#include <util/buffer.h>

#include <sstream>

namespace lwm2m {

WireOption::WireOption(isc::dhcp::Option::Universe universe, uint16_t code,
                       const uint8_t* wire, size_t length)
    : Option(universe, code), wire_(wire, wire + length) {
}

void
WireOption::pack(isc::util::OutputBuffer& buf, bool) const {
    if (!wire_.empty()) {
        buf.writeData(wire_.data(), wire_.size());
    }
}

uint16_t
WireOption::len() const {
    return (static_cast<uint16_t>(wire_.size()));
}

std::string
WireOption::toText(int indent) const {
    std::ostringstream text;
    text << std::string(indent, ' ') << "type=" << getType() << ", len=" << wire_.size()
         << " (LwM2M, pre-encoded" << (getUniverse() == V4 ? ", RFC 3396 parts" : "") << ")";
    return (text.str());
}

isc::dhcp::OptionPtr
WireOption::clone() const {
    return (cloneInternal<WireOption>());
}

} // namespace lwm2m
