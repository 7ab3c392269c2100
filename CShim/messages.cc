// Texts of the lwm2m-hooks messages; see docs/messages.md.
#include "kea_compat.h"

#include "messages.h"

#include <log/message_initializer.h>

namespace lwm2m {

const isc::log::MessageID LWM2M_LOADED = "LWM2M_LOADED";
const isc::log::MessageID LWM2M_LOAD_FAILED = "LWM2M_LOAD_FAILED";
const isc::log::MessageID LWM2M_STORE_LOAD_FAILED = "LWM2M_STORE_LOAD_FAILED";
const isc::log::MessageID LWM2M_STORE_KEPT_PREVIOUS = "LWM2M_STORE_KEPT_PREVIOUS";
const isc::log::MessageID LWM2M_UNLOADED = "LWM2M_UNLOADED";
const isc::log::MessageID LWM2M_CERTIFICATE_NEVER_FITS = "LWM2M_CERTIFICATE_NEVER_FITS";
const isc::log::MessageID LWM2M_OPTIONS_SENT = "LWM2M_OPTIONS_SENT";
const isc::log::MessageID LWM2M_CERTIFICATE_TOO_BIG = "LWM2M_CERTIFICATE_TOO_BIG";
const isc::log::MessageID LWM2M_URI_TOO_BIG = "LWM2M_URI_TOO_BIG";
const isc::log::MessageID LWM2M_NO_ENTRY = "LWM2M_NO_ENTRY";
const isc::log::MessageID LWM2M_OPTION_ALREADY_PRESENT = "LWM2M_OPTION_ALREADY_PRESENT";
const isc::log::MessageID LWM2M_CALLOUT_FAILED = "LWM2M_CALLOUT_FAILED";
const isc::log::MessageID LWM2M_RELOADED = "LWM2M_RELOADED";
const isc::log::MessageID LWM2M_RELOAD_FAILED = "LWM2M_RELOAD_FAILED";
const isc::log::MessageID LWM2M_CERTIFICATE_EXPIRES_SOON = "LWM2M_CERTIFICATE_EXPIRES_SOON";
const isc::log::MessageID LWM2M_CERTIFICATE_EXPIRED = "LWM2M_CERTIFICATE_EXPIRED";
const isc::log::MessageID LWM2M_WATCHING = "LWM2M_WATCHING";
const isc::log::MessageID LWM2M_OPERATION_FAILED = "LWM2M_OPERATION_FAILED";

} // namespace lwm2m

namespace {

const char* values[] = {
    "LWM2M_LOADED", "LwM2M bootstrap options loaded from store %1: %2",
    "LWM2M_LOAD_FAILED", "LwM2M hook library not loaded: %1",
    "LWM2M_STORE_LOAD_FAILED", "LwM2M store %1 not loaded, no LwM2M options are served: %2",
    "LWM2M_STORE_KEPT_PREVIOUS", "LwM2M store %1 not loaded, its last good version (%2 entries) is still served: %3",
    "LWM2M_UNLOADED", "LwM2M hook library unloaded",
    "LWM2M_CERTIFICATE_NEVER_FITS", "LwM2M store %1: the certificate of entries %2 cannot fit any DHCPv4 reply (not even 1500 octets); DHCPv4 clients get the URI only",
    "LWM2M_OPTIONS_SENT", "%1: LwM2M options sent (%2 octets, store entry %3)",
    "LWM2M_CERTIFICATE_TOO_BIG", "%1: LwM2M server certificate left out: the reply would exceed the client's limit of %2 octets (store entry %3)",
    "LWM2M_URI_TOO_BIG", "%1: LwM2M bootstrap URI left out: the reply would exceed the client's limit of %2 octets (store entry %3)",
    "LWM2M_NO_ENTRY", "%1: LwM2M options requested but no store entry applies to subnet %2",
    "LWM2M_OPTION_ALREADY_PRESENT", "%1: option %2 is already in the reply (option-data or another hook); LwM2M option not added",
    "LWM2M_CALLOUT_FAILED", "%1 callout failed, reply sent without LwM2M options: %2",
    "LWM2M_RELOADED", "LwM2M store %1 changed and was reloaded: %2",
    "LWM2M_RELOAD_FAILED", "LwM2M store %1 not reloaded, %2 is still served: %3",
    "LWM2M_CERTIFICATE_EXPIRES_SOON", "LwM2M server certificate %1 (subject %2) expires on %3, in %4 days",
    "LWM2M_CERTIFICATE_EXPIRED", "LwM2M server certificate %1 (subject %2) expired on %3; it is still served, devices will refuse it",
    "LWM2M_WATCHING", "LwM2M store and certificate files are checked for changes every %1 s",
    "LWM2M_OPERATION_FAILED", "LwM2M %1 failed: %2",
    NULL
};

const isc::log::MessageInitializer initializer(values);

} // namespace
