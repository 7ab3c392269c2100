// kea-lwm2m: compatibility for Debian's kea-dev 2.2.0, which installs
// dhcpsrv/network.h and dhcpsrv/srv_config.h but not the header they include
// for the class of configured global parameters (fixed upstream in Kea 2.4).
//
// This file is on the include path after Kea's own; when the real header is
// installed it is used instead and nothing here is compiled.
#ifndef KEA_LWM2M_COMPAT_CFG_GLOBALS_H
#define KEA_LWM2M_COMPAT_CFG_GLOBALS_H

#if defined(__has_include_next) && __has_include_next(<dhcpsrv/cfg_globals.h>)
#include_next <dhcpsrv/cfg_globals.h>
#else

#include <cc/data.h>
#include <boost/shared_ptr.hpp>

namespace isc {
namespace dhcp {

// Only what the installed headers name (network.h, srv_config.h). The shim reads no global parameter:
// it never calls the Network accessors (getValid(), getDdnsSendUpdates(), ...)
// whose inline bodies use these indexes, so their values never reach code
// that runs. The class itself is defined in libkea-dhcpsrv.
class CfgGlobals {
public:
    enum Index : int {
        VALID_LIFETIME, MIN_VALID_LIFETIME, MAX_VALID_LIFETIME,
        PREFERRED_LIFETIME, MIN_PREFERRED_LIFETIME, MAX_PREFERRED_LIFETIME,
        RENEW_TIMER, REBIND_TIMER, CALCULATE_TEE_TIMES, T1_PERCENT, T2_PERCENT,
        RESERVATIONS_GLOBAL, RESERVATIONS_IN_SUBNET, RESERVATIONS_OUT_OF_POOL,
        DDNS_SEND_UPDATES, DDNS_OVERRIDE_NO_UPDATE, DDNS_OVERRIDE_CLIENT_UPDATE,
        DDNS_REPLACE_CLIENT_NAME, DDNS_GENERATED_PREFIX, DDNS_QUALIFYING_SUFFIX,
        DDNS_UPDATE_ON_RENEW, DDNS_USE_CONFLICT_RESOLUTION,
        HOSTNAME_CHAR_SET, HOSTNAME_CHAR_REPLACEMENT, STORE_EXTENDED_INFO,
        CACHE_THRESHOLD, CACHE_MAX_AGE, MATCH_CLIENT_ID, AUTHORITATIVE,
        NEXT_SERVER, SERVER_HOSTNAME, BOOT_FILE_NAME,
    };
    isc::data::ConstElementPtr get(int index) const;
    isc::data::ConstElementPtr get(const std::string& name) const;
    void set(const std::string& name, isc::data::ConstElementPtr value);
    void clear();
};

typedef boost::shared_ptr<CfgGlobals> CfgGlobalsPtr;
typedef boost::shared_ptr<const CfgGlobals> ConstCfgGlobalsPtr;

} // namespace dhcp
} // namespace isc

#endif
#endif // KEA_LWM2M_COMPAT_CFG_GLOBALS_H
