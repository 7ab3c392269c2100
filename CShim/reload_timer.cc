// The watch timer: an IntervalTimer on Kea's own main loop (the io_service
// that dhcp4_srv_configured / dhcp6_srv_configured hand over). Each tick asks
// the core whether the store or a certificate file changed, logs what
// happened and flushes the statistics. A changed store is read and encoded
// by the core on a thread of its own (lwm2m_core_poll returns
// LWM2M_POLL_LOADING meanwhile); a second, short timer then polls every
// PICKUP_MS until the core publishes it, so a reload never holds up the
// packets Kea's main thread processes.
//
// Safety across reconfiguration (unload, dlclose, dlopen, load): unload()
// cancels and destroys the timer; a handler Kea had already queued may still
// run afterwards. The library is linked nodelete, so its code stays mapped,
// and each handler carries the generation it was started with: any other
// generation (the timer was stopped or replaced since) makes it return at
// once, before touching anything.
#include "kea_compat.h"

#include "reload_timer.h"

#include "events.h"
#include "log.h"
#include "lwm2m_core.h"
#include "statistics.h"

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

/// Polls while the core reads a changed store (main thread only).
std::unique_ptr<IntervalTimer> pickup;

/// How often a reload in progress is looked at.
const long PICKUP_MS = 5;

void
tick(uint64_t started, bool regular) noexcept {
    if (started != generation.load()) {
        return;
    }
    int32_t outcome = LWM2M_POLL_UNCHANGED;
    try {
        outcome = lwm2m_core_poll();
    } catch (...) {
        // The core never throws; nothing crosses into Kea's loop regardless.
    }
    try {
        // Repeating while the reload runs; cancelled (not re-armed) from its
        // own handler once the core is done, as IntervalTimer allows.
        const bool loading = (outcome == LWM2M_POLL_LOADING);
        if (loading && pickup && pickup->getInterval() == 0) {
            pickup->setup([started]() { tick(started, false); }, PICKUP_MS, IntervalTimer::REPEATING);
        } else if (!loading && pickup && pickup->getInterval() != 0) {
            pickup->cancel();
        }
    } catch (...) {
        // Without the pickup the next regular tick publishes the reload.
    }
    logCoreEvents();
    if (regular) {
        flushStatistics();
    }
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
    timer = kea::makeTimer(io_service);
    pickup = kea::makeTimer(io_service);
    timer->setup([mine]() { tick(mine, true); }, static_cast<long>(interval), IntervalTimer::REPEATING);
    LOG_INFO(logger, LWM2M_WATCHING).arg(interval / 1000.0);
}

void
stopWatch() noexcept {
    ++generation;
    for (auto* running : { &timer, &pickup }) {
        try {
            if (*running) {
                (*running)->cancel();
                running->reset();
            }
        } catch (...) {
            running->release();   // never let a failing destructor reach Kea
        }
    }
}

} // namespace lwm2m
