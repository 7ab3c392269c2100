// The watch timer: hot reload of the store on Kea's main loop. Main thread only.
#ifndef LWM2M_RELOAD_TIMER_H
#define LWM2M_RELOAD_TIMER_H

#include <asiolink/io_service.h>

namespace lwm2m {

/// Starts the watch timer on Kea's main loop with the period the core was
/// configured with (none when it is 0). Replaces a running timer.
void startWatch(const isc::asiolink::IOServicePtr& io_service);

/// Stops the watch timer; a tick already queued does nothing. Idempotent.
void stopWatch() noexcept;

} // namespace lwm2m

#endif
