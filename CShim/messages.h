// Message identifiers of the lwm2m-hooks logger. Each is documented, with
// its text and what an operator should do, in docs/messages.md.
#ifndef LWM2M_MESSAGES_H
#define LWM2M_MESSAGES_H

#include <log/message_types.h>

namespace lwm2m {

extern const isc::log::MessageID LWM2M_LOADED;
extern const isc::log::MessageID LWM2M_LOAD_FAILED;
extern const isc::log::MessageID LWM2M_STORE_LOAD_FAILED;
extern const isc::log::MessageID LWM2M_STORE_KEPT_PREVIOUS;
extern const isc::log::MessageID LWM2M_UNLOADED;
extern const isc::log::MessageID LWM2M_CERTIFICATE_NEVER_FITS;
extern const isc::log::MessageID LWM2M_OPTIONS_SENT;
extern const isc::log::MessageID LWM2M_CERTIFICATE_TOO_BIG;
extern const isc::log::MessageID LWM2M_URI_TOO_BIG;
extern const isc::log::MessageID LWM2M_NO_ENTRY;
extern const isc::log::MessageID LWM2M_OPTION_ALREADY_PRESENT;
extern const isc::log::MessageID LWM2M_CALLOUT_FAILED;
extern const isc::log::MessageID LWM2M_RELOADED;
extern const isc::log::MessageID LWM2M_RELOAD_FAILED;
extern const isc::log::MessageID LWM2M_CERTIFICATE_EXPIRES_SOON;
extern const isc::log::MessageID LWM2M_CERTIFICATE_EXPIRED;
extern const isc::log::MessageID LWM2M_WATCHING;
extern const isc::log::MessageID LWM2M_OPERATION_FAILED;

} // namespace lwm2m

#endif
