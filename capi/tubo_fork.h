/**
 * @file
 * @brief The fork start method: run a function in a forked child.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_FORK_H_
#define TUBO_CAPI_TUBO_FORK_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Start method: fork                                                       */
/* ------------------------------------------------------------------------ */

/** @brief Flag for `tubo_fork`: fork even if the parent runs several threads. */
#define TUBO_FORK_ALLOW_THREADS 1u
/**
 * @brief Flag for `tubo_fork`: let the child outlive this process. Without
 * it the child gets SIGKILL when this process dies (see `tubo_command_die_with_parent`).
 */
#define TUBO_FORK_OUTLIVE_PARENT 2u
/**
 * @brief Flag for `tubo_fork`: the child leads a new process group (see
 * `tubo_command_new_process_group`).
 */
#define TUBO_FORK_NEW_PROCESS_GROUP 4u

/**
 * @brief The function a forked child runs (see `tubo_fork`).
 *
 * `ends` are the ends moved into the child, in the order given to `tubo_fork`
 * (`n_ends` of them; NULL when 0), borrowed: the child exits when the function
 * returns, and its return value (0 to 255) is the exit code.
 */
typedef int (*tubo_fork_fn)(void *ctx, tubo_end **ends, size_t n_ends);

/**
 * @brief Runs `fn(ctx, ends, n_ends)` in a forked child.
 *
 * The child sees descriptors 0, 1, 2 and the ends only, with default signal
 * dispositions; stdio is flushed before the fork; the child leaves with
 * `_exit(return value)`. Refused in a multithreaded parent unless `flags`
 * has `TUBO_FORK_ALLOW_THREADS`.
 *
 * @param out receives the process (caller frees it).
 * @param fn the function (must not be NULL).
 * @param ctx passed to `fn` in the child as is (borrowed; may be NULL).
 * @param ends `n_ends` ends, each **consumed** even on failure: the parent's
 *   copies are closed when the call returns. The array itself is borrowed.
 *   NULL entries are an invalid argument (the others are still consumed).
 * @param n_ends the number of ends (`ends` may be NULL when 0).
 * @param flags 0, or any of `TUBO_FORK_ALLOW_THREADS`,
 *   `TUBO_FORK_OUTLIVE_PARENT` (by default the child dies with this process),
 *   `TUBO_FORK_NEW_PROCESS_GROUP`.
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_SPAWN` (threads, fork failure, unflushable end),
 *   `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_fork(tubo_process **out, tubo_fork_fn fn, void *ctx, tubo_end **ends, size_t n_ends,
              unsigned flags, tubo_error **err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_FORK_H_ */
