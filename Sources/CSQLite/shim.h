#ifndef ETRUST_CSQLITE_SHIM_H
#define ETRUST_CSQLITE_SHIM_H
#include <sqlite3.h>
// SQLITE_TRANSIENT is a function-pointer cast macro Swift cannot import.
static inline sqlite3_destructor_type etrust_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
