// One DHCP exchange: the facts go to the core, the options it answers with go
// into the reply. The facts are read in query_facts.cc and subnet_facts.cc.
#include "kea_compat.h"

#include "exchange.h"

#include "log.h"
#include "lwm2m_core.h"
#include "query_facts.h"
#include "subnet_facts.h"
#include "wire_option.h"
#include "wire_size.h"

#include <dhcp/dhcp4.h>
#include <dhcp/dhcp6.h>
#include <dhcp/pkt4.h>


#include <atomic>
#include <cstring>
#include <string>
#include <vector>

using namespace isc::dhcp;
using namespace isc::hooks;

namespace lwm2m {

namespace {

/// LWM2M_FACT_* bits the store in service needs: read from every query only
/// when set, so a store of subnet entries costs no class lists or id copies.
std::atomic<uint32_t> needed_facts(0);

/// A store entry as the log names it: its position from 1, or "default".
std::string entryLabel(int32_t index) {
    return (index == LWM2M_ENTRY_DEFAULT ? std::string("default") : std::to_string(index + 1));
}

} // namespace

void
setNeededFacts(uint32_t facts) {
    needed_facts.store(facts, std::memory_order_relaxed);
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

        const kea::ConstSubnetPtr subnet = kea::replySubnet(handle, query, v4);
        readSubnetFacts(subnet, response.get(), response4, exchange);

        // DHCPv4: the PRL and option 57 as the client sent them (RFC 3396
        // instances joined, option 57's own length), else Kea's parsed option
        // (a query without received data).
        OptionValue requested;
        if (!v4 || !requested.readDhcpv4Wire(query.get(), DHO_DHCP_PARAMETER_REQUEST_LIST)) {
            requested.read(query.get(), v4 ? DHO_DHCP_PARAMETER_REQUEST_LIST : D6O_ORO);
        }
        exchange.requested_options = requested.bytes;
        OptionValue max_size;
        if (v4 && !max_size.readDhcpv4Wire(query.get(), DHO_DHCP_MAX_MESSAGE_SIZE)) {
            max_size.read(query.get(), DHO_DHCP_MAX_MESSAGE_SIZE);
        }
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
            response->addOption(sharedWireOption(universe, span.code, answer.snapshot_serial, span.key,
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
