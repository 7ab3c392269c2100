// The Kea-version-dependent half of the shim; see kea_compat.h.
#include "kea_compat.h"

#include "log.h"

#include <dhcp/dhcp4.h>
#include <dhcp/pkt4.h>
#include <dhcpsrv/cfg_subnets4.h>
#include <dhcpsrv/cfgmgr.h>

using namespace isc::dhcp;
using namespace isc::hooks;

namespace lwm2m {
namespace kea {

#if LWM2M_SEND_CARRIES_SUBNET

ConstSubnetPtr
replySubnet(CalloutHandle& handle, const PktPtr& query, bool v4) {
    if (!v4) {
        CalloutSubnet6Ptr subnet;
        handle.getArgument("subnet6", subnet);
        return (subnet);
    }
    CalloutSubnet4Ptr subnet;
    handle.getArgument("subnet4", subnet);
    if (subnet) {
        return (subnet);
    }
    // A DHCPINFORM reply carries no subnet (kea_compat.h): select it as
    // Kea's own Dhcpv4Srv::selectSubnet does, from the query's addresses,
    // interface and classes. Only INFORM pays for it.
    Pkt4Ptr query4 = boost::dynamic_pointer_cast<Pkt4>(query);
    if (!query4 || query4->getType() != DHCPINFORM) {
        return (ConstSubnetPtr());
    }
    return (CfgMgr::instance().getCurrentCfg()->getCfgSubnets4()->selectSubnet(CfgSubnets4::initSelector(query4)));
}

#else

namespace {

/// Context key of the subnet remembered between subnetX_select and pktX_send.
const char* const SUBNET_CONTEXT = "lwm2m-subnet";

/// subnetX_select: remember the subnet Kea selected for this packet, in the
/// packet's callout context, until its reply is sent.
template <typename SubnetPtrType>
int
rememberSelectedSubnet(CalloutHandle& handle, const char* callout, const char* argument) {
    try {
        SubnetPtrType subnet;
        handle.getArgument(argument, subnet);
        if (subnet) {
            handle.setContext(SUBNET_CONTEXT, ConstSubnetPtr(subnet));
        } else {
            handle.deleteContext(SUBNET_CONTEXT);
        }
    } catch (const std::exception& ex) {
        logCalloutFailure(callout, ex.what());
    } catch (...) {
        logCalloutFailure(callout, "unknown exception");
    }
    return (0);
}

} // namespace

ConstSubnetPtr
replySubnet(CalloutHandle& handle, const PktPtr&, bool) {
    ConstSubnetPtr subnet;
    try {
        handle.getContext(SUBNET_CONTEXT, subnet);
    } catch (const NoSuchCalloutContext&) {
        // No subnet was selected for this packet.
    }
    return (subnet);
}

#endif

std::unique_ptr<isc::asiolink::IntervalTimer>
makeTimer(const isc::asiolink::IOServicePtr& io_service) {
#if LWM2M_KEA_HOOKS_VERSION >= 20507
    return (std::unique_ptr<isc::asiolink::IntervalTimer>(new isc::asiolink::IntervalTimer(io_service)));
#else
    return (std::unique_ptr<isc::asiolink::IntervalTimer>(new isc::asiolink::IntervalTimer(*io_service)));
#endif
}

} // namespace kea
} // namespace lwm2m

#if !LWM2M_SEND_CARRIES_SUBNET

extern "C" {

int
subnet4_select(CalloutHandle& handle) {
    return (lwm2m::kea::rememberSelectedSubnet<lwm2m::kea::CalloutSubnet4Ptr>(handle, "subnet4_select", "subnet4"));
}

int
subnet6_select(CalloutHandle& handle) {
    return (lwm2m::kea::rememberSelectedSubnet<lwm2m::kea::CalloutSubnet6Ptr>(handle, "subnet6_select", "subnet6"));
}

} // extern "C"

#endif
