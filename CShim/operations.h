// Operations: the watch timer, the control commands, the core's events in
// Kea's log and the core's counters in Kea's statistics. Main thread only.
#ifndef LWM2M_OPERATIONS_H
#define LWM2M_OPERATIONS_H

#include <asiolink/io_service.h>
#include <dhcpsrv/srv_config.h>
#include <hooks/library_handle.h>

namespace lwm2m {

/// Logs every event the core queued (reloads, certificate expiry, ...) with
/// its message id. Never throws.
void logCoreEvents() noexcept;

/// Adds the core's counts since the last flush to Kea's StatsMgr. Never throws.
void flushStatistics() noexcept;

/// Creates the hook's statistics at zero (server-wide, and per subnet of
/// `config`), so they show in statistic-get-all before the first packet.
void createStatistics(const isc::dhcp::SrvConfigPtr& config) noexcept;

/// Registers lwm2m-reload, lwm2m-status and lwm2m-explain.
void registerCommands(isc::hooks::LibraryHandle& handle);

/// Starts the watch timer on Kea's main loop with the period the core was
/// configured with (none when it is 0). Replaces a running timer.
void startWatch(const isc::asiolink::IOServicePtr& io_service);

/// Stops the watch timer; a tick already queued does nothing. Idempotent.
void stopWatch() noexcept;

} // namespace lwm2m

#endif
