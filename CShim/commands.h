// The control commands lwm2m-reload, lwm2m-status and lwm2m-explain. Main
// thread only.
#ifndef LWM2M_COMMANDS_H
#define LWM2M_COMMANDS_H

#include <hooks/library_handle.h>

namespace lwm2m {

/// Registers lwm2m-reload, lwm2m-status and lwm2m-explain.
void registerCommands(isc::hooks::LibraryHandle& handle);

} // namespace lwm2m

#endif
