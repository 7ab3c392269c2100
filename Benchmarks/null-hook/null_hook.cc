// Benchmark mode "n": a hook library that registers the packet callouts
// kea-lwm2m registers on the Kea it is built for and does nothing in them.
// Kea running it costs what Kea's own hook dispatch costs, which no hook on
// these hook points can avoid: the floor under mode c.
//
// kea-lwm2m registers pkt4_send and pkt6_send everywhere, and
// subnet4_select/subnet6_select only where the send callouts do not carry
// the selected subnet (Kea 2.2; LWM2M_SEND_CARRIES_SUBNET in
// CShim/kea_compat.h decides, for this library as for the hook).
// NULL_HOOK_SUBNET_SELECT=1 registers both select callouts regardless (mode s
// of scripts/bench/callgrind.py: what those hook points cost where the hook
// skips them).
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

int pkt4_send(CalloutHandle&) { return (0); }
int pkt6_send(CalloutHandle&) { return (0); }

#if NULL_HOOK_SUBNET_SELECT
int subnet4_select(CalloutHandle&) { return (0); }
int subnet6_select(CalloutHandle&) { return (0); }
#endif

} // extern "C"
