// Benchmark mode "n" of docs/performance.md: a hook library that registers
// the same four packet callouts as kea-lwm2m (subnet4_select, pkt4_send,
// subnet6_select, pkt6_send) and does nothing in them. Kea running it costs
// what Kea's own hook dispatch costs, which no hook on these two hook points
// can avoid: the floor under mode c. Built by scripts/bench/benchlab.py into $BENCH_WORK;
// never installed.
#include <hooks/hooks.h>

using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

extern "C" {

int version() { return (KEA_HOOKS_VERSION); }
int load(LibraryHandle&) { return (0); }
int unload() { return (0); }
int multi_threading_compatible() { return (1); }

int subnet4_select(CalloutHandle&) { return (0); }
int pkt4_send(CalloutHandle&) { return (0); }
int subnet6_select(CalloutHandle&) { return (0); }
int pkt6_send(CalloutHandle&) { return (0); }

} // extern "C"
