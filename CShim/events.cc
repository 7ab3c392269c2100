// The core's events, logged with the message id of their kind.
#include "kea_compat.h"

#include "events.h"

#include "log.h"
#include "lwm2m_core.h"

#include <memory>
#include <string>

namespace lwm2m {

void
logCoreEvents() noexcept {
    try {
        std::unique_ptr<lwm2m_event> event(new lwm2m_event());
        while (lwm2m_core_next_event(event.get()) == 1) {
            auto arg = [&event](unsigned i) {
                return (i < event->argument_count && i < LWM2M_EVENT_MAX_ARGUMENTS) ? std::string(event->arguments[i])
                                                                                    : std::string();
            };
            switch (event->kind) {
            case LWM2M_EVENT_RELOADED:
                LOG_INFO(logger, LWM2M_RELOADED).arg(arg(0)).arg(arg(1));
                break;
            case LWM2M_EVENT_RELOAD_FAILED:
                LOG_ERROR(logger, LWM2M_RELOAD_FAILED).arg(arg(0)).arg(arg(1)).arg(arg(2));
                break;
            case LWM2M_EVENT_CERTIFICATE_EXPIRES_SOON:
                LOG_WARN(logger, LWM2M_CERTIFICATE_EXPIRES_SOON).arg(arg(0)).arg(arg(1)).arg(arg(2)).arg(arg(3));
                break;
            case LWM2M_EVENT_CERTIFICATE_EXPIRED:
                LOG_ERROR(logger, LWM2M_CERTIFICATE_EXPIRED).arg(arg(0)).arg(arg(1)).arg(arg(2));
                break;
            case LWM2M_EVENT_CERTIFICATE_NEVER_FITS:
                LOG_WARN(logger, LWM2M_CERTIFICATE_NEVER_FITS).arg(arg(0)).arg(arg(1));
                break;
            case LWM2M_EVENT_DB_STORE_LOADED:
                LOG_INFO(logger, LWM2M_DB_STORE_LOADED).arg(arg(0)).arg(arg(1)).arg(arg(2));
                break;
            case LWM2M_EVENT_DB_STORE_REFUSED:
                LOG_ERROR(logger, LWM2M_DB_STORE_REFUSED).arg(arg(0)).arg(arg(1)).arg(arg(2)).arg(arg(3));
                break;
            case LWM2M_EVENT_DB_LOST:
                LOG_WARN(logger, LWM2M_DB_LOST).arg(arg(0)).arg(arg(1)).arg(arg(2));
                break;
            case LWM2M_EVENT_DB_BACK:
                LOG_INFO(logger, LWM2M_DB_BACK).arg(arg(0)).arg(arg(1));
                break;
            case LWM2M_EVENT_DB_CACHE_WRITE_FAILED:
                LOG_WARN(logger, LWM2M_DB_CACHE_WRITE_FAILED).arg(arg(0)).arg(arg(1));
                break;
            default:
                break;
            }
        }
    } catch (...) {
        // Logging failed: nothing more can be done without risking the server.
    }
}

} // namespace lwm2m
