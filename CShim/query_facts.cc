// Reading facts from Kea's query; see query_facts.h.
#include "kea_compat.h"

#include "query_facts.h"

#include <dhcp/dhcp4.h>
#include <dhcp/dhcp6.h>
#include <dhcp/option_int.h>
#include <dhcp/option_int_array.h>
#include <dhcp/pkt4.h>

#include <string>
#include <typeinfo>

using namespace isc::dhcp;

namespace lwm2m {

void
OptionValue::read(Pkt* query, uint16_t code) {
    bytes = { nullptr, 0 };
    option.reset();
    if (!query) {
        return;
    }
    // Pkt::getOption clones the option while a callout runs (Kea lets
    // hooks see copies of the query's options); this only reads, so it
    // borrows the packet's own option as Kea's getNonCopiedOption does.
    auto const found = query->options_.find(code);
    if (found == query->options_.end() || !found->second) {
        return;
    }
    option = found->second;
    const Option& base = *option;
    if (base.getOptions().empty()) {
        const std::type_info& type = typeid(base);
        if (type == typeid(OptionUint8Array)) {
            borrow(static_cast<const OptionUint8Array&>(base).getValues());
            return;
        }
        if (type == typeid(OptionUint16Array)) {
            const std::vector<uint16_t>& values = static_cast<const OptionUint16Array&>(base).getValues();
            if (values.size() * 2 <= sizeof(small)) {
                size_t at = 0;
                for (uint16_t code16 : values) {
                    small[at++] = static_cast<uint8_t>(code16 >> 8);
                    small[at++] = static_cast<uint8_t>(code16);
                }
                bytes.data = small;
                bytes.length = at;
                return;
            }
        } else if (type == typeid(OptionUint16)) {
            const uint16_t number = static_cast<const OptionUint16&>(base).getValue();
            small[0] = static_cast<uint8_t>(number >> 8);
            small[1] = static_cast<uint8_t>(number);
            bytes.data = small;
            bytes.length = 2;
            return;
        } else if (type == typeid(Option)) {
            borrow(base.getData());
            return;
        }
    }
    value = option->toBinary(false);
    borrow(value);
}

bool
OptionValue::readDhcpv4Wire(const Pkt* query, uint8_t code) {
    bytes = { nullptr, 0 };
    option.reset();
    value.clear();
    if (!query) {
        return (false);
    }
    // 236 octets of fixed fields and the magic cookie come before the options.
    constexpr size_t options_start = 240;
    const std::vector<uint8_t>& wire = query->data_;
    const uint8_t* first = nullptr;
    size_t first_length = 0;
    size_t instances = 0;
    size_t at = options_start;
    while (at < wire.size()) {
        const uint8_t type = wire[at];
        if (type == DHO_PAD) {
            ++at;
            continue;
        }
        if (type == DHO_END || wire.size() - at < 2) {
            break;
        }
        const size_t length = wire[at + 1];
        if (length > wire.size() - at - 2) {
            break;
        }
        const uint8_t* data = wire.data() + at + 2;
        if (type == code) {
            if (instances == 0) {
                first = data;
                first_length = length;
            } else {
                if (instances == 1) {
                    value.assign(first, first + first_length);
                }
                value.insert(value.end(), data, data + length);
            }
            ++instances;
        }
        at += 2 + length;
    }
    if (instances == 0) {
        return (false);
    }
    if (instances == 1) {
        bytes.data = first_length > 0 ? first : reinterpret_cast<const uint8_t*>("");
        bytes.length = first_length;
    } else {
        borrow(value);
    }
    return (true);
}

void
OptionalFacts::read(uint32_t wanted, bool v4, const PktPtr& query, const kea::ConstSubnetPtr& selected,
                    lwm2m_exchange& exchange) {
    exchange.provided_facts = wanted;
    if (wanted & LWM2M_FACT_CLIENT_ID) {
        client_id_.read(query.get(), v4 ? DHO_DHCP_CLIENT_IDENTIFIER : D6O_CLIENTID);
        exchange.client_id = client_id_.bytes;
    }
    const Pkt4* query4 = (wanted & LWM2M_FACT_HW_ADDRESS) ? dynamic_cast<const Pkt4*>(query.get()) : nullptr;
    if (query4) {
        hwaddr_ = query4->getHWAddr();   // held: the exchange borrows its bytes
        if (hwaddr_ && !hwaddr_->hwaddr_.empty()) {
            exchange.hardware_type = static_cast<uint8_t>(hwaddr_->htype_);
            exchange.hardware_address.data = hwaddr_->hwaddr_.data();
            exchange.hardware_address.length = hwaddr_->hwaddr_.size();
        }
    }
    if (wanted & LWM2M_FACT_CLIENT_CLASSES) {
        thread_local std::string classes;
        classes.clear();
        for (auto const& name : query->getClasses()) {
            classes.append(name);
            classes.push_back('\0');
        }
        exchange.client_classes.data = reinterpret_cast<const uint8_t*>(classes.data());
        exchange.client_classes.length = classes.size();
    }
    if ((wanted & LWM2M_FACT_SHARED_NETWORK) && selected) {
        thread_local std::string network;
        network = selected->getSharedNetworkName();
        if (!network.empty()) {
            exchange.shared_network.data = reinterpret_cast<const uint8_t*>(network.data());
            exchange.shared_network.length = network.size();
        }
    }
}

} // namespace lwm2m
