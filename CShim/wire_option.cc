#include "kea_compat.h"

#include "wire_option.h"

#include <util/buffer.h>

#include <boost/make_shared.hpp>

#include <array>
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

namespace {

/// Recently built options of one thread, direct-mapped by key.
struct RecentOptions {
    struct Slot {
        uint64_t serial = 0;
        uint32_t key = 0;
        uint16_t code = 0;
        isc::dhcp::OptionPtr option;
    };
    /// A handful of entries (per subnet, class or shared network) serve most
    /// replies; per-host entries simply miss.
    std::array<Slot, 16> slots;
};

thread_local RecentOptions recent;

} // namespace

isc::dhcp::OptionPtr
sharedWireOption(isc::dhcp::Option::Universe universe, uint16_t code,
                 uint64_t serial, uint32_t key, const uint8_t* wire, size_t length) {
    // Keys are offsets in the snapshot's arena: mix the high bits in.
    RecentOptions::Slot& slot = recent.slots[(key ^ (key >> 7) ^ code) % recent.slots.size()];
    if (slot.option && slot.serial == serial && slot.key == key && slot.code == code &&
        slot.option->getUniverse() == universe && slot.option->len() == length) {
        return (slot.option);
    }
    isc::dhcp::OptionPtr option = boost::make_shared<WireOption>(universe, code, wire, length);
    slot.serial = serial;
    slot.key = key;
    slot.code = code;
    slot.option = option;
    return (option);
}

} // namespace lwm2m
