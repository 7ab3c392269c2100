// The core counts lock-free on the packet path; this moves the counts into
// Kea's StatsMgr from the main loop (timer tick, commands, unload), so the
// packet path never takes StatsMgr's lock. Statistics lag by up to one
// watch interval.
#include "kea_compat.h"

#include "statistics.h"

#include "log.h"
#include "lwm2m_core.h"

#include <dhcpsrv/cfg_subnets4.h>
#include <dhcpsrv/cfg_subnets6.h>
#include <dhcpsrv/cfgmgr.h>
#include <stats/stats_mgr.h>

#include <string>

using isc::stats::StatsMgr;

namespace lwm2m {

namespace {

const char* const URI_SENT = "lwm2m-uri-sent";
const char* const CERTIFICATE_SENT = "lwm2m-certificate-sent";
const char* const CERTIFICATE_TOO_BIG = "lwm2m-certificate-too-big";
const char* const URI_TOO_BIG = "lwm2m-uri-too-big";
const char* const RELOAD_OK = "lwm2m-reload-ok";
const char* const RELOAD_FAILED = "lwm2m-reload-failed";
const char* const DATABASE_REVISION = "lwm2m-database-revision";
const char* const DATABASE_CONNECTED = "lwm2m-database-connected";

void
add(const std::string& name, uint64_t delta, bool always = false) {
    if (delta > 0 || always) {
        StatsMgr::instance().addValue(name, static_cast<int64_t>(delta));
    }
}

std::string
subnetName(uint32_t id, const char* name) {
    return (StatsMgr::generateName("subnet", id, name));
}

} // namespace

void
flushStatistics() noexcept {
    try {
        lwm2m_statistic_delta deltas[64];
        const size_t capacity = sizeof(deltas) / sizeof(deltas[0]);
        size_t count;
        do {
            count = lwm2m_core_take_statistics(deltas, capacity);
            for (size_t i = 0; i < count; ++i) {
                const lwm2m_statistic_delta& d = deltas[i];
                if (d.subnet_id == 0) {
                    add(URI_SENT, d.uri_sent);
                    add(CERTIFICATE_SENT, d.certificate_sent);
                    add(CERTIFICATE_TOO_BIG, d.certificate_too_big);
                    add(URI_TOO_BIG, d.uri_too_big);
                    add(RELOAD_OK, d.reload_ok);
                    add(RELOAD_FAILED, d.reload_failed);
                } else {
                    add(subnetName(d.subnet_id, URI_SENT), d.uri_sent, true);
                    add(subnetName(d.subnet_id, CERTIFICATE_SENT), d.certificate_sent, true);
                    add(subnetName(d.subnet_id, CERTIFICATE_TOO_BIG), d.certificate_too_big, true);
                }
            }
        } while (count == capacity);
        int64_t revision = 0;
        int32_t connected = 0;
        if (lwm2m_core_database_gauges(&revision, &connected) == 1) {
            StatsMgr::instance().setValue(DATABASE_REVISION, revision);
            StatsMgr::instance().setValue(DATABASE_CONNECTED, static_cast<int64_t>(connected));
        }
    } catch (const std::exception& ex) {
        logOperationFailure("statistics", ex.what());
    } catch (...) {
        logOperationFailure("statistics", "unknown exception");
    }
}

void
createStatistics(const isc::dhcp::SrvConfigPtr& config) noexcept {
    try {
        for (const char* name : { URI_SENT, CERTIFICATE_SENT, CERTIFICATE_TOO_BIG, URI_TOO_BIG, RELOAD_OK, RELOAD_FAILED }) {
            add(name, 0, true);
        }
        if (!config) {
            return;
        }
        auto perSubnet = [](uint32_t id) {
            for (const char* name : { URI_SENT, CERTIFICATE_SENT, CERTIFICATE_TOO_BIG }) {
                add(subnetName(id, name), 0, true);
            }
        };
        if (isc::dhcp::CfgMgr::instance().getFamily() == AF_INET) {
            for (auto const& subnet : *config->getCfgSubnets4()->getAll()) {
                perSubnet(subnet->getID());
            }
        } else {
            for (auto const& subnet : *config->getCfgSubnets6()->getAll()) {
                perSubnet(subnet->getID());
            }
        }
    } catch (const std::exception& ex) {
        logOperationFailure("statistics", ex.what());
    } catch (...) {
        logOperationFailure("statistics", "unknown exception");
    }
}

} // namespace lwm2m
