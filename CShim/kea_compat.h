// kea_compat.h: every difference between the Kea versions the shim is built
// for (2.2, 2.6, 3.0) lives here and in kea_compat.cc, nowhere else. Every
// .cc of the shim includes this header first: Kea's own headers expect
// <config.h> before anything (3.0 refuses to compile without it).
//
// scripts/build-hook.sh passes LWM2M_KEA_HOOKS_VERSION, the KEA_HOOKS_VERSION
// of the headers it compiles against (20200, 20603, 30004): hooks.h declares
// that number as a constant, which the preprocessor cannot see. Adding a Kea
// version means one more threshold here, if its API moved (docs/install.md).
#ifndef LWM2M_KEA_COMPAT_H
#define LWM2M_KEA_COMPAT_H

#include <config.h>

#include <asiolink/interval_timer.h>
#include <asiolink/io_service.h>
#include <dhcp/pkt.h>
#include <dhcpsrv/subnet.h>
#include <hooks/callout_handle.h>
#include <hooks/hooks.h>

#include <boost/shared_ptr.hpp>

#include <memory>

#ifndef LWM2M_KEA_HOOKS_VERSION
#error "LWM2M_KEA_HOOKS_VERSION is not set: build the hook with scripts/build-hook.sh"
#endif

namespace lwm2m {
namespace kea {

static_assert(LWM2M_KEA_HOOKS_VERSION == KEA_HOOKS_VERSION,
              "LWM2M_KEA_HOOKS_VERSION differs from the KEA_HOOKS_VERSION of the headers in use");

/// Whether pkt4_send / pkt6_send carry the subnet Kea selected (argument
/// "subnet4" / "subnet6"): from 2.6. Then the hook registers no
/// subnetX_select, one hook point fewer per packet; Kea 2.2 hands the subnet
/// only to subnetX_select, whose callouts (kea_compat.cc) remember it.
///
/// Except for a DHCPINFORM reply: Kea 2.6 and 3.0 pass it an empty
/// "subnet4" although they selected one (Dhcpv4Srv::processInform hands the
/// packet's context to its Dhcpv4Exchange and, unlike processDiscover and
/// processRequest, never takes it back, so processDhcp4Query finds no
/// context; src/bin/dhcp4/dhcp4_srv.cc, Kea-2.6.3 and Kea-3.0.4). For that
/// reply alone, replySubnet selects the subnet from the query the way Kea's
/// Dhcpv4Srv::selectSubnet does (CfgSubnets4::initSelector + selectSubnet),
/// so no packet pays for a select callout.
#define LWM2M_SEND_CARRIES_SUBNET (LWM2M_KEA_HOOKS_VERSION >= 20600)

/// A subnet the shim only reads (isc::dhcp::ConstSubnetPtr exists from 3.0 only).
using ConstSubnetPtr = boost::shared_ptr<const isc::dhcp::Subnet>;

/// The type of the subnet argument of Kea's callouts: const from 3.0 (Kea
/// 2.7.5). `getArgument` with any other type throws bad_any_cast.
#if LWM2M_KEA_HOOKS_VERSION >= 30000
using CalloutSubnet4Ptr = isc::dhcp::ConstSubnet4Ptr;
using CalloutSubnet6Ptr = isc::dhcp::ConstSubnet6Ptr;
#else
using CalloutSubnet4Ptr = isc::dhcp::Subnet4Ptr;
using CalloutSubnet6Ptr = isc::dhcp::Subnet6Ptr;
#endif

/// The subnet Kea selected for `query`, which pkt4_send / pkt6_send is
/// answering (`v4`: which of the two), or null when Kea selected none.
/// Throws what `getArgument` throws.
ConstSubnetPtr replySubnet(isc::hooks::CalloutHandle& handle, const isc::dhcp::PktPtr& query, bool v4);

/// A new IntervalTimer on `io_service`: its constructor took `IOService&` up
/// to Kea 2.5.4 and takes `const IOServicePtr&` since 2.5.7.
std::unique_ptr<isc::asiolink::IntervalTimer> makeTimer(const isc::asiolink::IOServicePtr& io_service);

} // namespace kea
} // namespace lwm2m

#endif
