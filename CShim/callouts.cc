// kea-lwm2m: the entry points Kea calls. Each is a few lines; the facts are
// read in query_facts.cc and subnet_facts.cc, exchange.cc hands them to the
// core, and every decision is the Swift core's.
#include "kea_compat.h"

#include "commands.h"
#include "events.h"
#include "exchange.h"
#include "log.h"
#include "lwm2m_core.h"
#include "reload_timer.h"
#include "statistics.h"

#include <dhcp/dhcp6.h>
#include <dhcp/libdhcp++.h>
#include <dhcp/option_space.h>
#include <dhcp/pkt4.h>
#include <dhcp/pkt6.h>
#include <dhcpsrv/cfg_option_def.h>
#include <dhcpsrv/cfgmgr.h>
#include <hooks/hooks.h>

#include <memory>
#include <set>
#include <string>

using namespace isc::dhcp;
using namespace isc::hooks;
using namespace lwm2m;

namespace {

/// Codes Kea already defines in the server family's top-level option space:
/// standard, last-resort, and the option-def entries of the configuration
/// being loaded.
std::vector<uint16_t> keaDefinedCodes(const std::string& space) {
    std::set<uint16_t> codes;
    auto collect = [&codes](const OptionDefContainerPtr& defs) {
        if (defs) {
            for (auto const& def : *defs) {
                codes.insert(def->getCode());
            }
        }
    };
    collect(LibDHCP::getOptionDefs(space));
    collect(LibDHCP::getLastResortOptionDefs(space));
    collect(CfgMgr::instance().getStagingCfg()->getCfgOptionDef()->getAll(space));
    return (std::vector<uint16_t>(codes.begin(), codes.end()));
}

/// pktX_send: add the LwM2M options to the reply. Does nothing when an
/// earlier callout asked Kea to drop the packet or to skip its own packing.
template <typename PktPtrType>
int addOptionsToReply(CalloutHandle& handle, const char* callout, const char* query_argument,
                      const char* response_argument) {
    try {
        if (handle.getStatus() != CalloutHandle::NEXT_STEP_CONTINUE) {
            return (0);
        }
        PktPtrType query;
        PktPtrType response;
        handle.getArgument(query_argument, query);
        handle.getArgument(response_argument, response);
        completeReply(handle, callout, query, response);
    } catch (const std::exception& ex) {
        logCalloutFailure(callout, ex.what());
    } catch (...) {
        logCalloutFailure(callout, "unknown exception");
    }
    return (0);
}

/// dhcp4_srv_configured / dhcp6_srv_configured.
int startOperations(CalloutHandle& handle, const char* callout) {
    try {
        isc::asiolink::IOServicePtr io_service;
        handle.getArgument("io_context", io_service);
        SrvConfigPtr config;
        try {
            handle.getArgument("server_config", config);
        } catch (const std::exception&) {
            config = CfgMgr::instance().getStagingCfg();
        }
        createStatistics(config);
        startWatch(io_service);
    } catch (const std::exception& ex) {
        logOperationFailure(callout, ex.what());
    } catch (...) {
        logOperationFailure(callout, "unknown exception");
    }
    return (0);
}

} // namespace

extern "C" {

int
version() {
    return (KEA_HOOKS_VERSION);
}

int
multi_threading_compatible() {
    return (1);
}

int
load(LibraryHandle& handle) {
    try {
        const bool v4 = (CfgMgr::instance().getFamily() == AF_INET);
        const std::string parameters = handle.getParameters() ? handle.getParameters()->str() : "{}";
        const std::vector<uint16_t> codes = keaDefinedCodes(v4 ? DHCP4_OPTION_SPACE : DHCP6_OPTION_SPACE);

        lwm2m_config_input input = {};
        input.family = v4 ? 4 : 6;
        input.parameters_json = parameters.data();
        input.parameters_json_length = parameters.size();
        input.kea_defined_codes = codes.data();
        input.kea_defined_codes_count = codes.size();
        std::unique_ptr<lwm2m_load_result> result(new lwm2m_load_result());
        lwm2m_core_configure(&input, result.get());

        if (result->oversized_certificates[0] != '\0') {
            LOG_WARN(logger, LWM2M_CERTIFICATE_NEVER_FITS).arg(result->store_path)
                .arg(result->oversized_certificates);
        }
        if (result->status != LWM2M_LOAD_BAD_PARAMETERS) {
            setNeededFacts(result->needed_facts);
        }
        switch (result->status) {
        case LWM2M_LOAD_OK:
            LOG_INFO(logger, LWM2M_LOADED).arg(result->store_path).arg(result->text);
            logCoreEvents();
            registerCommands(handle);
            return (0);
        case LWM2M_LOAD_STORE_FAILED:
            if (result->kept_previous_store) {
                LOG_WARN(logger, LWM2M_STORE_KEPT_PREVIOUS).arg(result->store_path)
                    .arg(result->entry_count).arg(result->text);
            } else {
                LOG_ERROR(logger, LWM2M_STORE_LOAD_FAILED).arg(result->store_path).arg(result->text);
            }
            logCoreEvents();
            registerCommands(handle);
            return (0);
        default:
            LOG_ERROR(logger, LWM2M_LOAD_FAILED).arg(result->text);
            return (1);
        }
    } catch (const std::exception& ex) {
        LOG_ERROR(logger, LWM2M_LOAD_FAILED).arg(ex.what());
    } catch (...) {
        LOG_ERROR(logger, LWM2M_LOAD_FAILED).arg("unknown exception");
    }
    return (1);
}

int
unload() {
    stopWatch();
    flushStatistics();
    lwm2m_core_unload();
    try {
        LOG_INFO(logger, LWM2M_UNLOADED);
    } catch (...) {
    }
    return (0);
}

/// dhcpX_srv_configured: the server is configured; start the watch timer on
/// its main loop and create the hook's statistics.
int
dhcp4_srv_configured(CalloutHandle& handle) {
    return (startOperations(handle, "dhcp4_srv_configured"));
}

int
dhcp6_srv_configured(CalloutHandle& handle) {
    return (startOperations(handle, "dhcp6_srv_configured"));
}

int
pkt4_send(CalloutHandle& handle) {
    return (addOptionsToReply<Pkt4Ptr>(handle, "pkt4_send", "query4", "response4"));
}

int
pkt6_send(CalloutHandle& handle) {
    return (addOptionsToReply<Pkt6Ptr>(handle, "pkt6_send", "query6", "response6"));
}

} // extern "C"
