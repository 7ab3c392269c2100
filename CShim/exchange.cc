#include "kea_compat.h"

#include "exchange.h"

#include "log.h"
#include "lwm2m_core.h"
#include "wire_option.h"

#include <dhcp/dhcp4.h>
#include <dhcp/dhcp6.h>
#include <dhcp/option6_iaaddr.h>
#include <dhcp/option_int.h>
#include <dhcp/option_int_array.h>
#include <dhcp/pkt4.h>
#include <dhcpsrv/shared_network.h>

#include <boost/make_shared.hpp>
#include <boost/shared_ptr.hpp>

#include <atomic>
#include <cstring>
#include <string>
#include <typeinfo>
#include <vector>

using namespace isc::asiolink;
using namespace isc::dhcp;
using namespace isc::hooks;

namespace lwm2m {

namespace {

/// The raw value of a query's option, borrowed for one call. Kea parses
/// options into typed classes (the PRL into an OptionUint8Array, the ORO into
/// an OptionUint16Array, option 57 into an OptionInt<uint16_t>) that keep
/// their values outside Option::getData(). The value as it would go on the
/// wire is read from those classes directly (by reference, or into a small
/// buffer in the object) without packing; any other class falls back to
/// Option::toBinary, which allocates.
struct OptionValue {
    OptionPtr option;
    std::vector<uint8_t> value;
    uint8_t small[256];
    lwm2m_bytes bytes = { nullptr, 0 };

    OptionValue() = default;
    OptionValue(const OptionValue&) = delete;
    OptionValue& operator=(const OptionValue&) = delete;

    /// `query` may be null: then the value is absent.
    OptionValue(Pkt* query, uint16_t code) {
        read(query, code);
    }

    void read(Pkt* query, uint16_t code) {
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

private:
    void borrow(const std::vector<uint8_t>& data) {
        bytes.data = data.empty() ? reinterpret_cast<const uint8_t*>("") : data.data();
        bytes.length = data.size();
    }
};

/// The size of a DHCPv4 reply on the wire as it stands: fixed header, magic
/// cookie, every option (with the extra headers Kea's splitter adds to values
/// over 253 octets) and END.
size_t dhcpv4WireSize(const Pkt4& response) {
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

/// LWM2M_FACT_* bits the store in service needs: read from every query only
/// when set, so a store of subnet entries costs no class lists or id copies.
std::atomic<uint32_t> needed_facts(0);

/// The facts that only some stores need, borrowed by the exchange for one
/// call. Reads nothing for bits not in `wanted`; the class and network name
/// buffers are per thread and keep their capacity, so a packet allocates
/// nothing for them once the thread has seen one.
class OptionalFacts {
public:
    void read(uint32_t wanted, bool v4, const PktPtr& query, const kea::ConstSubnetPtr& subnet, lwm2m_exchange& exchange) {
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
        if ((wanted & LWM2M_FACT_SHARED_NETWORK) && subnet) {
            thread_local std::string network;
            network = subnet->getSharedNetworkName();
            if (!network.empty()) {
                exchange.shared_network.data = reinterpret_cast<const uint8_t*>(network.data());
                exchange.shared_network.length = network.size();
            }
        }
    }

private:
    OptionValue client_id_;
    HWAddrPtr hwaddr_;
};

/// `address` as 4 (IPv4) or 16 (IPv6) octets into `out`; returns how many.
/// IOAddress gives IPv6 octets only in a new vector: callers on the packet
/// path cache what they can.
size_t addressBytes(const IOAddress& address, uint8_t (&out)[16]) {
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

/// The subnet facts of the exchange: the subnet Kea selected and, when it is
/// in a shared network, the network's subnets and the leased address (Kea
/// may lease from another subnet of the network; the core decides whose
/// entries apply). A subnet outside a shared network costs no address work.
void readSubnetFacts(const kea::ConstSubnetPtr& selected, const Pkt* response, const Pkt4* response4,
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
std::string subnetLabel(const kea::ConstSubnetPtr& selected, uint32_t id, bool v4) {
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

} // namespace

void
setNeededFacts(uint32_t facts) {
    needed_facts.store(facts, std::memory_order_relaxed);
}

/// A store entry as the log names it: its position from 1, or "default".
std::string entryLabel(int32_t index) {
    return (index == LWM2M_ENTRY_DEFAULT ? std::string("default") : std::to_string(index + 1));
}

void
completeReply(CalloutHandle& handle, const char* callout, const PktPtr& query, const PktPtr& response) {
    try {
        if (!query || !response) {
            return;
        }
        Pkt4* response4 = dynamic_cast<Pkt4*>(response.get());
        const bool v4 = response4 != nullptr;
        lwm2m_exchange exchange;
        std::memset(&exchange, 0, sizeof(exchange));
        exchange.family = v4 ? 4 : 6;
        exchange.query_type = query->getType();
        exchange.response_type = response->getType();

        const kea::ConstSubnetPtr subnet = kea::replySubnet(handle, v4);
        readSubnetFacts(subnet, response.get(), response4, exchange);

        OptionValue requested(query.get(), v4 ? DHO_DHCP_PARAMETER_REQUEST_LIST : D6O_ORO);
        exchange.requested_options = requested.bytes;
        OptionValue max_size(v4 ? query.get() : nullptr, DHO_DHCP_MAX_MESSAGE_SIZE);
        exchange.max_message_size = max_size.bytes;
        exchange.reply_size = response4 ? dhcpv4WireSize(*response4) : response->len();
        // The codes the reply carries already (option-data, other hooks):
        // the core neither duplicates nor counts them. Beyond 64 options the
        // check before addOption below still catches a duplicate.
        uint16_t reply_codes[64];
        size_t reply_code_count = 0;
        for (auto const& entry : response->options_) {
            if (reply_code_count == sizeof(reply_codes) / sizeof(reply_codes[0])) {
                break;
            }
            reply_codes[reply_code_count++] = static_cast<uint16_t>(entry.first);
        }
        exchange.reply_codes = reply_codes;
        exchange.reply_code_count = reply_code_count;
        const lwm2m_exchange base = exchange;

        thread_local std::vector<uint8_t> buffer(4096);
        lwm2m_answer answer;
        uint32_t wanted = needed_facts.load(std::memory_order_relaxed);
        OptionalFacts optional;
        if (wanted != 0) {
            optional.read(wanted, v4, query, subnet, exchange);
        }
        int32_t status = lwm2m_core_answer(&exchange, buffer.data(), buffer.size(), &answer);
        if (answer.needed_facts != wanted) {
            // The store in service changed (a reload): follow it.
            needed_facts.store(answer.needed_facts, std::memory_order_relaxed);
        }
        if (status == LWM2M_ANSWER_STATUS_NEEDS_FACTS) {
            exchange = base;
            optional.read(answer.needed_facts, v4, query, subnet, exchange);
            status = lwm2m_core_answer(&exchange, buffer.data(), buffer.size(), &answer);
        }
        if (status == LWM2M_ANSWER_STATUS_BUFFER_TOO_SMALL) {
            buffer.resize(answer.bytes_needed);
            status = lwm2m_core_answer(&exchange, buffer.data(), buffer.size(), &answer);
        }
        if (status != LWM2M_ANSWER_STATUS_DONE) {
            return;
        }

        const Option::Universe universe = v4 ? Option::V4 : Option::V6;
        size_t octets = 0;
        for (uint32_t i = 0; i < answer.option_count && i < LWM2M_ANSWER_MAX_OPTIONS; ++i) {
            const lwm2m_option_span& span = answer.options[i];
            if (size_t(span.offset) + span.length > buffer.size()) {
                continue;
            }
            if (response->options_.find(span.code) != response->options_.end()) {
                LOG_DEBUG(logger, DBG_PACKET, LWM2M_OPTION_ALREADY_PRESENT).arg(response->getLabel()).arg(span.code);
                continue;
            }
            response->addOption(boost::make_shared<WireOption>(universe, span.code,
                                                               buffer.data() + span.offset, span.length));
            octets += span.length;
        }

        // Arguments of LOG_DEBUG are evaluated only when that debug level is
        // on: the packet label (~20k instructions) costs nothing otherwise.
        if (answer.flags & LWM2M_ANSWER_URI_ALREADY_PRESENT) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_OPTION_ALREADY_PRESENT).arg(response->getLabel()).arg(answer.uri_code);
        }
        if (answer.flags & LWM2M_ANSWER_CERTIFICATE_ALREADY_PRESENT) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_OPTION_ALREADY_PRESENT).arg(response->getLabel()).arg(answer.certificate_code);
        }
        if (answer.flags & LWM2M_ANSWER_NO_ENTRY) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_NO_ENTRY).arg(response->getLabel())
                .arg(subnetLabel(subnet, answer.subnet_id, v4));
        }
        if (answer.flags & LWM2M_ANSWER_URI_TOO_BIG) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_URI_TOO_BIG).arg(response->getLabel()).arg(answer.size_limit).arg(entryLabel(answer.entry_index));
        }
        if (answer.flags & LWM2M_ANSWER_CERTIFICATE_TOO_BIG) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_CERTIFICATE_TOO_BIG).arg(response->getLabel()).arg(answer.size_limit).arg(entryLabel(answer.entry_index));
        }
        if (octets > 0) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_OPTIONS_SENT).arg(response->getLabel()).arg(octets).arg(entryLabel(answer.entry_index));
        }
    } catch (const std::exception& ex) {
        logCalloutFailure(callout, ex.what());
    } catch (...) {
        logCalloutFailure(callout, "unknown exception");
    }
}

} // namespace lwm2m
