// Benchmark mode "n": a hook library that registers the packet callouts
// kea-lwm2m registers on the Kea it is built for and does nothing in them.
// Kea running it costs what Kea's own hook dispatch costs, which no hook on
// these hook points can avoid: the floor under mode c.
//
// kea-lwm2m registers pkt4_send, pkt6_send and subnet4_select everywhere
// (on 2.6/3.0 subnet4_select serves DHCPINFORM replies only), and
// subnet6_select only where pkt6_send does not carry the selected subnet
// (Kea 2.2; LWM2M_SEND_CARRIES_SUBNET in CShim/kea_compat.h decides, for this
// library as for the hook). NULL_HOOK_SUBNET_SELECT=1 registers
// subnet6_select regardless (mode s of scripts/bench/callgrind.py: what that
// hook point costs where the hook skips it).
//
// Built per Kea version by scripts/bench/benchlab.py with scripts/kea-cxx.sh
// into $BENCH_WORK; never installed.
#include <config.h>

#include <hooks/hooks.h>

#include "kea_compat.h"

#ifndef NULL_HOOK_SUBNET_SELECT
#define NULL_HOOK_SUBNET_SELECT (!LWM2M_SEND_CARRIES_SUBNET)
#endif

using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

extern "C" {

int version() { return (KEA_HOOKS_VERSION); }
int load(LibraryHandle&) { return (0); }
int unload() { return (0); }
int multi_threading_compatible() { return (1); }

int subnet4_select(CalloutHandle&) { return (0); }
int pkt4_send(CalloutHandle&) { return (0); }
int pkt6_send(CalloutHandle&) { return (0); }

#if NULL_HOOK_SUBNET_SELECT
int subnet6_select(CalloutHandle&) { return (0); }
#endif

} // extern "C"
