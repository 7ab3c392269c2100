// The watch timer: an IntervalTimer on Kea's own main loop (the io_service
// that dhcp4_srv_configured / dhcp6_srv_configured hand over), no thread of
// our own. Each tick asks the core whether the store or a certificate file
// changed, logs what happened and flushes the statistics.
//
// Safety across reconfiguration (unload, dlclose, dlopen, load): unload()
// cancels and destroys the timer; a handler Kea had already queued may still
// run afterwards. The library is linked nodelete, so its code stays mapped,
// and each handler carries the generation it was started with: any other
// generation (the timer was stopped or replaced since) makes it return at
// once, before touching anything.
#include "log.h"
#include "lwm2m_core.h"
#include "operations.h"

#include <asiolink/interval_timer.h>

#include <atomic>
#include <memory>

using isc::asiolink::IntervalTimer;
using isc::asiolink::IOServicePtr;

namespace lwm2m {

namespace {

/// Bumped by every start and stop; a tick of another generation is stale.
std::atomic<uint64_t> generation(0);

/// The running timer (main thread only).
std::unique_ptr<IntervalTimer> timer;

void
tick(uint64_t started) noexcept {
    if (started != generation.load()) {
        return;
    }
    try {
        lwm2m_core_poll();
    } catch (...) {
        // The core never throws; nothing crosses into Kea's loop regardless.
    }
    logCoreEvents();
    flushStatistics();
}

} // namespace

void
startWatch(const IOServicePtr& io_service) {
    stopWatch();
    const uint32_t interval = lwm2m_core_watch_interval_ms();
    if (!io_service || interval == 0) {
        return;
    }
    const uint64_t mine = ++generation;
    timer.reset(new IntervalTimer(*io_service));
    timer->setup([mine]() { tick(mine); }, static_cast<long>(interval), IntervalTimer::REPEATING);
    LOG_INFO(logger, LWM2M_WATCHING).arg(interval / 1000.0);
}

void
stopWatch() noexcept {
    ++generation;
    try {
        if (timer) {
            timer->cancel();
            timer.reset();
        }
    } catch (...) {
        timer.release();   // never let a failing destructor reach Kea
    }
}

} // namespace lwm2m
