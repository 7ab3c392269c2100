#include "log.h"

namespace lwm2m {

isc::log::Logger logger("lwm2m-hooks");

const int DBG_PACKET = isc::log::DBGLVL_PKT_HANDLING;

} // namespace lwm2m
