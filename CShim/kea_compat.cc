// The Kea-version-dependent half of the shim; see kea_compat.h.
#include "kea_compat.h"

#include "log.h"

#include <dhcp/dhcp4.h>
#include <dhcp/pkt4.h>

using namespace isc::dhcp;
using namespace isc::hooks;

namespace lwm2m {
namespace kea {

namespace {

/// Context key of the subnet remembered between subnetX_select and pktX_send.
const char* const SUBNET_CONTEXT = "lwm2m-subnet";

/// The subnet subnetX_select remembered for this packet, or null.
ConstSubnetPtr
rememberedSubnet(CalloutHandle& handle) {
    ConstSubnetPtr subnet;
    try {
        handle.getContext(SUBNET_CONTEXT, subnet);
    } catch (const NoSuchCalloutContext&) {
        // No subnet was selected for this packet.
    }
    return (subnet);
}

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

#if LWM2M_SEND_CARRIES_SUBNET

ConstSubnetPtr
replySubnet(CalloutHandle& handle, bool v4) {
    if (v4) {
        CalloutSubnet4Ptr subnet;
        handle.getArgument("subnet4", subnet);
        if (subnet) {
            return (subnet);
        }
        // A DHCPINFORM reply: see LWM2M_SEND_CARRIES_SUBNET (kea_compat.h).
        Pkt4Ptr query;
        handle.getArgument("query4", query);
        if (query && query->getType() == DHCPINFORM) {
            return (rememberedSubnet(handle));
        }
        return (ConstSubnetPtr());
    }
    CalloutSubnet6Ptr subnet;
    handle.getArgument("subnet6", subnet);
    return (subnet);
}

#else

ConstSubnetPtr
replySubnet(CalloutHandle& handle, bool) {
    return (rememberedSubnet(handle));
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

extern "C" {

// Registered by every build: Kea 2.2 hands the subnet to no other callout,
// 2.6 and 3.0 none to pkt4_send for a DHCPINFORM reply (kea_compat.h).
int
subnet4_select(CalloutHandle& handle) {
    return (lwm2m::kea::rememberSelectedSubnet<lwm2m::kea::CalloutSubnet4Ptr>(handle, "subnet4_select", "subnet4"));
}

#if !LWM2M_SEND_CARRIES_SUBNET

int
subnet6_select(CalloutHandle& handle) {
    return (lwm2m::kea::rememberSelectedSubnet<lwm2m::kea::CalloutSubnet6Ptr>(handle, "subnet6_select", "subnet6"));
}

#endif

} // extern "C"
