#include "exchange.h"

#include "log.h"
#include "lwm2m_core.h"
#include "wire_option.h"

#include <dhcp/dhcp4.h>
#include <dhcp/dhcp6.h>
#include <dhcp/pkt4.h>

#include <boost/make_shared.hpp>
#include <boost/shared_ptr.hpp>

#include <cstring>
#include <vector>

using namespace isc::dhcp;
using namespace isc::hooks;

namespace lwm2m {

namespace {

/// Context key of the subnet remembered between select and send.
const char* const SUBNET_CONTEXT = "lwm2m-subnet";

/// What subnetX_select saw, kept for pktX_send of the same packet.
struct SelectedSubnet {
    uint32_t id = 0;
    uint8_t prefix[16] = {};
    uint8_t prefix_length = 0;
};
typedef boost::shared_ptr<SelectedSubnet> SelectedSubnetPtr;

/// The raw value of a query's option, borrowed for one call. Kea parses
/// options into typed classes (the PRL into an OptionUint8Array, option 57
/// into an OptionInt) that keep their values outside Option::getData(), so
/// the value is taken as the option would go on the wire.
struct OptionValue {
    std::vector<uint8_t> value;
    lwm2m_bytes bytes = { nullptr, 0 };

    /// `query` may be null: then the value is absent.
    OptionValue(const PktPtr& query, uint16_t code) {
        OptionPtr option = query ? query->getOption(code) : OptionPtr();
        if (option) {
            value = option->toBinary(false);
            bytes.data = value.empty() ? reinterpret_cast<const uint8_t*>("") : value.data();
            bytes.length = value.size();
        }
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

SelectedSubnetPtr selectedSubnet(CalloutHandle& handle) {
    SelectedSubnetPtr subnet;
    try {
        handle.getContext(SUBNET_CONTEXT, subnet);
    } catch (const std::exception&) {
        // No subnet was selected for this packet.
    }
    return (subnet);
}

} // namespace

void
rememberSubnet(CalloutHandle& handle, const SubnetPtr& subnet) {
    if (!subnet) {
        handle.deleteContext(SUBNET_CONTEXT);
        return;
    }
    SelectedSubnetPtr selected = boost::make_shared<SelectedSubnet>();
    selected->id = subnet->getID();
    auto const prefix = subnet->get();
    std::vector<uint8_t> address = prefix.first.toBytes();
    std::memcpy(selected->prefix, address.data(), std::min(address.size(), sizeof(selected->prefix)));
    selected->prefix_length = prefix.second;
    handle.setContext(SUBNET_CONTEXT, selected);
}

void
completeReply(CalloutHandle& handle, const char* callout, const PktPtr& query, const PktPtr& response) {
    try {
        if (!query || !response) {
            return;
        }
        Pkt4Ptr response4 = boost::dynamic_pointer_cast<Pkt4>(response);
        const bool v4 = static_cast<bool>(response4);
        lwm2m_exchange exchange;
        std::memset(&exchange, 0, sizeof(exchange));
        exchange.family = v4 ? 4 : 6;
        exchange.query_type = query->getType();
        exchange.response_type = response->getType();

        SelectedSubnetPtr subnet = selectedSubnet(handle);
        if (subnet) {
            exchange.has_subnet = 1;
            exchange.subnet_id = subnet->id;
            std::memcpy(exchange.subnet_prefix, subnet->prefix, sizeof(exchange.subnet_prefix));
            exchange.subnet_prefix_length = subnet->prefix_length;
        }

        OptionValue requested(query, v4 ? DHO_DHCP_PARAMETER_REQUEST_LIST : D6O_ORO);
        exchange.requested_options = requested.bytes;
        OptionValue max_size(v4 ? query : PktPtr(), DHO_DHCP_MAX_MESSAGE_SIZE);
        exchange.max_message_size = max_size.bytes;
        exchange.reply_size = response4 ? dhcpv4WireSize(*response4) : response->len();

        thread_local std::vector<uint8_t> buffer(4096);
        lwm2m_answer answer;
        if (lwm2m_core_answer(&exchange, buffer.data(), buffer.size(), &answer) == 1) {
            buffer.resize(answer.bytes_needed);
            if (lwm2m_core_answer(&exchange, buffer.data(), buffer.size(), &answer) != 0) {
                return;
            }
        }

        const std::string label = response->getLabel();
        const Option::Universe universe = v4 ? Option::V4 : Option::V6;
        size_t octets = 0;
        for (uint32_t i = 0; i < answer.option_count && i < 2; ++i) {
            const lwm2m_option_span& span = answer.options[i];
            if (size_t(span.offset) + span.length > buffer.size()) {
                continue;
            }
            if (response->getOption(span.code)) {
                LOG_DEBUG(logger, DBG_PACKET, LWM2M_OPTION_ALREADY_PRESENT).arg(label).arg(span.code);
                continue;
            }
            response->addOption(boost::make_shared<WireOption>(universe, span.code,
                                                               buffer.data() + span.offset, span.length));
            octets += span.length;
        }

        if (answer.flags & LWM2M_ANSWER_NO_ENTRY) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_NO_ENTRY).arg(label)
                .arg(subnet ? std::to_string(subnet->id) : std::string("(none selected)"));
        }
        if (answer.flags & LWM2M_ANSWER_URI_TOO_BIG) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_URI_TOO_BIG).arg(label).arg(answer.size_limit).arg(answer.entry_index + 1);
        }
        if (answer.flags & LWM2M_ANSWER_CERTIFICATE_TOO_BIG) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_CERTIFICATE_TOO_BIG).arg(label).arg(answer.size_limit).arg(answer.entry_index + 1);
        }
        if (octets > 0) {
            LOG_DEBUG(logger, DBG_PACKET, LWM2M_OPTIONS_SENT).arg(label).arg(octets).arg(answer.entry_index + 1);
        }
    } catch (const std::exception& ex) {
        LOG_ERROR(logger, LWM2M_CALLOUT_FAILED).arg(callout).arg(ex.what());
    } catch (...) {
        LOG_ERROR(logger, LWM2M_CALLOUT_FAILED).arg(callout).arg("unknown exception");
    }
}

} // namespace lwm2m
