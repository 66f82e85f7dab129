/**
 * @file
 * @brief The stable C ABI of tubo: pipes, processes and channels for C and
 * every language binding.
 *
 * @code
 *   tubo_end *r = NULL, *w = NULL;
 *   tubo_error *err = NULL;
 *   if (tubo_pipe_new(&r, &w, &err) != TUBO_OK) {
 *     fprintf(stderr, "%s\n", tubo_error_message(err));
 *     tubo_error_free(err);
 *     return 1;
 *   }
 *   tubo_end_send(w, "hi", 2, NULL);
 *   tubo_end_free(w);                        // the reader sees EOF next
 *   tubo_bytes *m = NULL;
 *   while (tubo_end_recv(&m, r, NULL) == TUBO_OK) {
 *     fwrite(m->data, 1, m->len, stdout);
 *     tubo_bytes_free(m);
 *   }
 *   tubo_end_free(r);
 * @endcode
 *
 * **Conventions** (they hold for every declaration of the headers below):
 * - Every function that can fail returns an `int` status: `TUBO_OK` (0), a
 *   non-error positive outcome (`TUBO_EOF`), or a negative `TUBO_E_*` code.
 * - Outputs come first; a single output is named `out`. On failure outputs
 *   are left untouched unless stated otherwise.
 * - The last parameter of a fallible call, `err`, is optional: if it is not
 *   NULL, a failure stores a new `tubo_error` there (the caller frees it with
 *   `tubo_error_free`) and success stores NULL. There is no thread-local
 *   "last error".
 * - A NULL or otherwise invalid argument gives `TUBO_E_INVALID_ARGUMENT` with
 *   a message naming the function and the argument; it never crashes.
 * - Pointers are **borrowed** (the library keeps nothing after the call
 *   returns; bytes are copied or written before it returns) unless the
 *   parameter says **consumed**: then the library owns the handle from the
 *   moment of the call, even if the call fails, and the caller must not use or
 *   free it again.
 * - Every `_free` function accepts NULL.
 * - **Thread-safety**: every handle may move between threads but must not be
 *   used by two threads at once; distinct handles are independent. Functions
 *   without a handle (version, channels, entries) are thread-safe.
 *
 * **Ends.** One opaque type, `tubo_end`, stands for the three kinds of pipe
 * end (read, write, duplex); `tubo_end_kind` tells which. A call that needs a
 * capability the end lacks (sending on a read end) fails with
 * `TUBO_E_INVALID_ARGUMENT`. One type keeps arrays of mixed ends (fork, wait
 * sets) simple for C and for bindings.
 *
 * **Linking.** `libtubo.so.1` depends on the system's abseil shared libraries
 * (`libabsl_*.so`); `pkg-config --libs tubo` gives the flags.
 *
 * **Headers.** This header includes the whole C ABI, one topic per header; a
 * program includes `tubo.h` only (each topic header also compiles on its own):
 * - `tubo_common.h`: status codes, the error object, `tubo_bytes`, the opaque
 *   handle types, the version calls;
 * - `tubo_end.h`: pipes and ends;
 * - `tubo_channel.h`: the worker side of the channel hand-off;
 * - `tubo_command.h`: the exec and self start methods;
 * - `tubo_entry.h`: entry points of the self start method;
 * - `tubo_fork.h`: the fork start method;
 * - `tubo_fork_server.h`: the fork server start method;
 * - `tubo_pool.h`: the worker pool and its worker side;
 * - `tubo_process.h`: process handles;
 * - `tubo_wait_set.h`: waiting on many ends and processes.
 */
#ifndef TUBO_CAPI_TUBO_H_
#define TUBO_CAPI_TUBO_H_

/** @brief Major version: changes only with an incompatible ABI (and the SONAME). */
#define TUBO_VERSION_MAJOR 1
/** @brief Minor version: new functions, compatible. */
#define TUBO_VERSION_MINOR 2
/** @brief Patch version: fixes only. */
#define TUBO_VERSION_PATCH 0
/** @brief The version as one number, `MAJOR * 10000 + MINOR * 100 + PATCH`. */
#define TUBO_VERSION_NUMBER \
  (TUBO_VERSION_MAJOR * 10000 + TUBO_VERSION_MINOR * 100 + TUBO_VERSION_PATCH)

#include "tubo_channel.h"
#include "tubo_command.h"
#include "tubo_common.h"
#include "tubo_end.h"
#include "tubo_entry.h"
#include "tubo_fork.h"
#include "tubo_fork_server.h"
#include "tubo_pool.h"
#include "tubo_process.h"
#include "tubo_wait_set.h"

#endif /* TUBO_CAPI_TUBO_H_ */
