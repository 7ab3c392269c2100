// The one logger of the hook: kea-dhcp4.lwm2m-hooks / kea-dhcp6.lwm2m-hooks.
#ifndef LWM2M_LOG_H
#define LWM2M_LOG_H

#include "messages.h"

#include <log/log_dbglevels.h>
#include <log/logger.h>
#include <log/macros.h>

namespace lwm2m {

extern isc::log::Logger logger;

/// Per-packet decisions: as verbose as Kea's own packet handling messages.
extern const int DBG_PACKET;

/// Logs LWM2M_CALLOUT_FAILED: a callout gave up and the reply goes without
/// LwM2M options. Never throws, so it is safe in a callout's catch block.
void logCalloutFailure(const char* callout, const char* reason) noexcept;

/// Logs LWM2M_OPERATION_FAILED: a command, the watch timer or the statistics
/// flush met an unexpected error. Never throws.
void logOperationFailure(const char* operation, const char* reason) noexcept;

} // namespace lwm2m

#endif
