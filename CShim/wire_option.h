// An option whose wire bytes the Swift core encoded: for DHCPv4 one or more
// consecutive code/length/data instances (RFC 3396), for DHCPv6 one option.
//
// Kea packs it as it is. Its data_ is empty and it has no sub-options, so
// Kea's own RFC 3396 splitter (LibDHCP::splitOptions4) leaves it alone and
// the wire never depends on that splitter.
#ifndef LWM2M_WIRE_OPTION_H
#define LWM2M_WIRE_OPTION_H

#include <dhcp/option.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lwm2m {

class WireOption : public isc::dhcp::Option {
public:
    /// @param universe V4 or V6.
    /// @param code the option code (all instances carry it).
    /// @param wire the option's complete wire form, headers included.
    WireOption(isc::dhcp::Option::Universe universe, uint16_t code,
               const uint8_t* wire, size_t length);

    void pack(isc::util::OutputBuffer& buf, bool check = true) const override;
    uint16_t len() const override;
    std::string toText(int indent = 0) const override;
    isc::dhcp::OptionPtr clone() const override;

private:
    std::vector<uint8_t> wire_;
};

/// The option for these wire bytes, built once per packet thread and reused
/// for later replies with the same bytes, as Kea adds its configured
/// option-data objects to every reply instead of building new ones: the
/// object is never changed after it is built, so replies may share it.
///
/// `serial` and `key` name the bytes (lwm2m_answer.snapshot_serial,
/// lwm2m_option_span.key): a new snapshot (a reload) has another serial and
/// misses. Each thread keeps a few recent options (bounded, whatever the
/// store's size); a miss builds a new one. Throws only what allocation
/// throws.
isc::dhcp::OptionPtr sharedWireOption(isc::dhcp::Option::Universe universe, uint16_t code,
                                      uint64_t serial, uint32_t key,
                                      const uint8_t* wire, size_t length);

} // namespace lwm2m

#endif
