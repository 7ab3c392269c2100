// One DHCP exchange as the Swift core sees it: facts read from Kea's packets
// go in, ready option bytes come out and are added to the reply.
#ifndef LWM2M_EXCHANGE_H
#define LWM2M_EXCHANGE_H

#include <dhcp/pkt.h>
#include <dhcpsrv/subnet.h>
#include <hooks/callout_handle.h>

namespace lwm2m {

/// load(): the facts (LWM2M_FACT_* bits) the loaded store needs from every
/// query. Replies keep it current (see lwm2m_core_answer).
void setNeededFacts(uint32_t facts);

/// pkt4_send / pkt6_send: ask the core which LwM2M options the reply gets and
/// add them. Never throws.
void completeReply(isc::hooks::CalloutHandle& handle, const char* callout,
                   const isc::dhcp::PktPtr& query, const isc::dhcp::PktPtr& response);

} // namespace lwm2m

#endif
