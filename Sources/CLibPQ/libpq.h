// The libpq header, where Debian's libpq-dev installs it.
#include <postgresql/libpq-fe.h>
