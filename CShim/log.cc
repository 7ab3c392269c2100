#include "kea_compat.h"

#include "log.h"

namespace lwm2m {

isc::log::Logger logger("lwm2m-hooks");

const int DBG_PACKET = isc::log::DBGLVL_PKT_HANDLING;

void
logCalloutFailure(const char* callout, const char* reason) noexcept {
    try {
        LOG_ERROR(logger, LWM2M_CALLOUT_FAILED).arg(callout).arg(reason);
    } catch (...) {
        // Nothing more can be done without risking the server.
    }
}

void
logOperationFailure(const char* operation, const char* reason) noexcept {
    try {
        LOG_ERROR(logger, LWM2M_OPERATION_FAILED).arg(operation).arg(reason);
    } catch (...) {
    }
}

} // namespace lwm2m
