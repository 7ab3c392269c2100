// The core's counters in Kea's statistics. Main thread only.
#ifndef LWM2M_STATISTICS_H
#define LWM2M_STATISTICS_H

#include <dhcpsrv/srv_config.h>

namespace lwm2m {

/// Adds the core's counts since the last flush to Kea's StatsMgr. Never throws.
void flushStatistics() noexcept;

/// Creates the hook's statistics at zero (server-wide, and per subnet of
/// `config`), so they show in statistic-get-all before the first packet.
void createStatistics(const isc::dhcp::SrvConfigPtr& config) noexcept;

} // namespace lwm2m

#endif
