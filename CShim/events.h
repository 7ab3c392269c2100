// The core's events (reloads, certificate expiry, ...) in Kea's log. Main
// thread only.
#ifndef LWM2M_EVENTS_H
#define LWM2M_EVENTS_H

namespace lwm2m {

/// Logs every event the core queued with its message id. Never throws.
void logCoreEvents() noexcept;

} // namespace lwm2m

#endif
