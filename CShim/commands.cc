// lwm2m-reload, lwm2m-status, lwm2m-explain: Kea control commands. The core
// writes the whole answer; this only resolves the subnet lwm2m-explain asks
// about in Kea's current configuration and hands the answer back to Kea.
#include "kea_compat.h"

#include "commands.h"

#include "events.h"
#include "log.h"
#include "lwm2m_core.h"
#include "statistics.h"
#include "subnet_facts.h"

#include <asiolink/io_address.h>
#include <cc/command_interpreter.h>
#include <cc/data.h>
#include <dhcp/classify.h>
#include <dhcpsrv/cfg_subnets4.h>
#include <dhcpsrv/cfg_subnets6.h>
#include <dhcpsrv/cfgmgr.h>
#include <hooks/hooks.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>

using namespace isc::data;
using namespace isc::dhcp;
using namespace isc::hooks;

namespace lwm2m {

namespace {

/// The subnet lwm2m-explain asks about, resolved in the current configuration.
struct ResolvedSubnet {
    kea::ConstSubnetPtr subnet;
    std::string error;
};

ResolvedSubnet
resolveSubnet(const ConstElementPtr& args) {
    ResolvedSubnet resolved;
    if (!args || args->getType() != Element::map) {
        return (resolved);   // the core explains what is missing
    }
    const bool v4 = (CfgMgr::instance().getFamily() == AF_INET);
    ClientClasses classes;
    ConstElementPtr list = args->get("client-classes");
    if (list && list->getType() == Element::list) {
        for (auto const& item : list->listValue()) {
            if (item->getType() == Element::string) {
                classes.insert(item->stringValue());
            }
        }
    }
    SrvConfigPtr config = CfgMgr::instance().getCurrentCfg();
    ConstElementPtr id = args->get("subnet-id");
    ConstElementPtr address = args->get("address");
    if (id && !address && id->getType() == Element::integer) {
        const int64_t value = id->intValue();
        if (value < 1 || value > int64_t(std::numeric_limits<uint32_t>::max())) {
            return (resolved);   // the core reports the range
        }
        resolved.subnet = v4 ? kea::ConstSubnetPtr(config->getCfgSubnets4()->getSubnet(SubnetID(value)))
                             : kea::ConstSubnetPtr(config->getCfgSubnets6()->getSubnet(SubnetID(value)));
        if (!resolved.subnet) {
            resolved.error = "no subnet with id " + std::to_string(value) + " in this server's current configuration";
        }
    } else if (address && !id && address->getType() == Element::string) {
        const std::string text = address->stringValue();
        try {
            isc::asiolink::IOAddress ip(text);
            if (ip.isV4() != v4) {
                resolved.error = "'" + text + "' is not an IPv" + (v4 ? "4" : "6") +
                                 " address; ask kea-dhcp" + (v4 ? "6" : "4") + " about it";
                return (resolved);
            }
            resolved.subnet = v4 ? kea::ConstSubnetPtr(config->getCfgSubnets4()->selectSubnet(ip, classes))
                                 : kea::ConstSubnetPtr(config->getCfgSubnets6()->selectSubnet(ip, classes));
            if (!resolved.subnet) {
                resolved.error = "no subnet of this server's current configuration would be selected for " + text +
                                 (classes.empty() ? std::string() : " with client classes " + classes.toText());
            }
        } catch (const std::exception&) {
            resolved.error = "'address' " + text + " is not an IP address";
        }
    }
    return (resolved);
}

ConstElementPtr
answerFromCore(const std::string& name, const ConstElementPtr& args) {
    lwm2m_command_input input;
    std::memset(&input, 0, sizeof(input));
    input.command = name.data();
    input.command_length = name.size();
    const std::string json = args ? args->str() : std::string();
    input.arguments_json = json.empty() ? nullptr : json.data();
    input.arguments_json_length = json.size();

    ResolvedSubnet resolved;
    std::string prefix_text;
    std::string network;
    if (name == "lwm2m-explain") {
        resolved = resolveSubnet(args);
        if (resolved.subnet) {
            input.has_subnet = 1;
            input.subnet.id = resolved.subnet->getID();
            auto const prefix = resolved.subnet->get();
            addressBytes(prefix.first, input.subnet.prefix);
            input.subnet.prefix_length = prefix.second;
            prefix_text = resolved.subnet->toText();
            input.subnet_text = prefix_text.data();
            input.subnet_text_length = prefix_text.size();
            network = resolved.subnet->getSharedNetworkName();
            if (!network.empty()) {
                input.shared_network = network.data();
                input.shared_network_length = network.size();
            }
        } else if (!resolved.error.empty()) {
            input.subnet_error = resolved.error.data();
            input.subnet_error_length = resolved.error.size();
        }
    }
    if (name == "lwm2m-status") {
        flushStatistics();   // the counters in the answer include everything so far
    }
    std::unique_ptr<char, void (*)(char*)> text(lwm2m_core_command(&input), lwm2m_core_free);
    if (!text) {
        return (isc::config::createAnswer(isc::config::CONTROL_RESULT_ERROR, name + ": out of memory"));
    }
    return (Element::fromJSON(std::string(text.get())));
}

/// The one callout behind all three commands.
int
lwm2mCommand(CalloutHandle& handle) {
    std::string name = "lwm2m command";
    ConstElementPtr response;
    try {
        ConstElementPtr command;
        handle.getArgument("command", command);
        ConstElementPtr args;
        name = isc::config::parseCommand(args, command);
        response = answerFromCore(name, args);
    } catch (const std::exception& ex) {
        logOperationFailure(name.c_str(), ex.what());
        response = isc::config::createAnswer(isc::config::CONTROL_RESULT_ERROR, name + ": " + ex.what());
    } catch (...) {
        logOperationFailure(name.c_str(), "unknown exception");
        response = isc::config::createAnswer(isc::config::CONTROL_RESULT_ERROR, name + ": internal error");
    }
    logCoreEvents();
    flushStatistics();
    try {
        handle.setArgument("response", response);
    } catch (...) {
        logOperationFailure(name.c_str(), "cannot set the response");
    }
    return (0);
}

} // namespace

void
registerCommands(LibraryHandle& handle) {
    for (const char* name : { "lwm2m-reload", "lwm2m-status", "lwm2m-explain" }) {
        handle.registerCommandCallout(name, lwm2mCommand);
    }
}

} // namespace lwm2m
