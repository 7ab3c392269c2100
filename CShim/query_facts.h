// The facts of one exchange read from Kea's query: option values borrowed
// without copying, and the facts only some stores need.
#ifndef LWM2M_QUERY_FACTS_H
#define LWM2M_QUERY_FACTS_H

#include "kea_compat.h"
#include "lwm2m_core.h"

#include <dhcp/hwaddr.h>
#include <dhcp/option.h>
#include <dhcp/pkt.h>

#include <cstdint>
#include <vector>

namespace lwm2m {

/// The raw value of a query's option, borrowed for one call. Kea parses
/// options into typed classes (the PRL into an OptionUint8Array, the ORO into
/// an OptionUint16Array, option 57 into an OptionInt<uint16_t>) that keep
/// their values outside Option::getData(). The value as it would go on the
/// wire is read from those classes directly (by reference, or into a small
/// buffer in the object) without packing; any other class falls back to
/// Option::toBinary, which allocates.
struct OptionValue {
    isc::dhcp::OptionPtr option;
    std::vector<uint8_t> value;
    uint8_t small[256];
    lwm2m_bytes bytes = { nullptr, 0 };

    OptionValue() = default;
    OptionValue(const OptionValue&) = delete;
    OptionValue& operator=(const OptionValue&) = delete;

    /// `query` may be null: then the value is absent.
    OptionValue(isc::dhcp::Pkt* query, uint16_t code) {
        read(query, code);
    }

    /// Borrows `query`'s option `code` (absent when `query` is null or
    /// lacks it). Never allocates for the PRL, the ORO, option 57 or an
    /// untyped option.
    void read(isc::dhcp::Pkt* query, uint16_t code);

    /// Reads DHCPv4 option `code` from the query as the client sent it:
    /// every instance in the options field, concatenated (RFC 3396), walked
    /// as Kea walks it (pads skipped, END or an option running past the end
    /// stops the walk). Kea 2.2 and 2.6 fuse the instances of a typed option
    /// (PRL, option 57) into an empty untyped one, and every version reads
    /// option 57 of three or more octets as its first two: the wire is the
    /// only place that still has the client's value. Borrows the packet's
    /// buffer when there is one instance. Returns false, with the value
    /// absent, when the options field does not have the code (or `query` has
    /// no received data).
    bool readDhcpv4Wire(const isc::dhcp::Pkt* query, uint8_t code);

private:
    void borrow(const std::vector<uint8_t>& data) {
        bytes.data = data.empty() ? reinterpret_cast<const uint8_t*>("") : data.data();
        bytes.length = data.size();
    }
};

/// The facts that only some stores need, borrowed by the exchange for one
/// call. Reads nothing for bits not in `wanted`; the class and network name
/// buffers are per thread and keep their capacity, so a packet allocates
/// nothing for them once the thread has seen one.
class OptionalFacts {
public:
    /// Fills the facts of `wanted` (LWM2M_FACT_* bits) into `exchange` and
    /// sets its provided_facts. `selected`: the subnet Kea selected, whose
    /// shared network's name is the LWM2M_FACT_SHARED_NETWORK fact.
    void read(uint32_t wanted, bool v4, const isc::dhcp::PktPtr& query, const kea::ConstSubnetPtr& selected,
              lwm2m_exchange& exchange);

private:
    OptionValue client_id_;
    isc::dhcp::HWAddrPtr hwaddr_;
};

} // namespace lwm2m

#endif
