// Internal: the fork server process (the entry point kForkServerEntry, see
// tubo/internal/fork_server_wire.h). Not part of the public API.
#ifndef TUBO_INTERNAL_FORK_SERVER_MAIN_H_
#define TUBO_INTERNAL_FORK_SERVER_MAIN_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

namespace tubo {
namespace internal {

// True if the server's entry point is registered in this binary. It is
// registered during static initialisation by the file that implements the
// server, which this call makes sure is linked into any program that starts
// a ForkServer: the server is the same binary, re-executed.
bool ForkServerEntryRegistered();

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_FORK_SERVER_MAIN_H_
