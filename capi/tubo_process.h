/**
 * @file
 * @brief Process handles: wait, signal, stop, detach, read the exit status.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_PROCESS_H_
#define TUBO_CAPI_TUBO_PROCESS_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Processes                                                                */
/* ------------------------------------------------------------------------ */

/*
 * What a process handle guarantees (C++: tubo/process.h, which has the details):
 * - No zombie: freeing a handle whose child runs stops it (the stop sequence)
 *   and reaps it; only tubo_process_detach leaves a child unowned.
 * - Die with the parent: children get SIGKILL when this process dies by any
 *   cause (on by default in C; tubo_command_die_with_parent,
 *   TUBO_FORK_OUTLIVE_PARENT). Not after exec of a set-user-ID program.
 * - Foreign reapers: a fork child has no exit signal, so a SIGCHLD handler
 *   calling waitpid(-1) (or SIGCHLD ignored) cannot take its status. An exec
 *   or self child has SIGCHLD again once it execs: on Linux 6.15 and later its
 *   status still comes back through its pidfd; on older kernels
 *   tubo_process_wait then fails with TUBO_E_SYSTEM ("taken by another wait").
 * - Signals go through the pidfd, never to a raw pid; a process group only
 *   while its leader is unreaped (tubo_process_signal_group).
 * - tubo never puts a descriptor it creates on 0, 1 or 2.
 */

/**
 * @brief Stops and reaps the child (consumed), then frees the handle. NULL is allowed.
 *
 * A child still running gets the stop sequence (`tubo_process_set_stop_*`;
 * by default 1 s grace, SIGTERM, 1 s, SIGKILL); a detached one is left alone.
 */
void tubo_process_free(tubo_process *process);

/** @brief The child's pid (borrowed handle), or -1 for NULL or a detached handle. */
int tubo_process_pid(const tubo_process *process);

/**
 * @brief The child's pidfd, borrowed from `process` (borrowed): readable once
 * the child has exited, for event loops (Go's netpoller, asyncio).
 *
 * The descriptor belongs to the handle: never close it, and do not use it
 * after the handle reaps, detaches or is freed (it is closed then, and its
 * number may be reused). Readable means "the child has exited"; reap it with
 * `tubo_process_wait` or `tubo_process_poll`, never with waitid on the pidfd
 * (the handle would not learn the status). -1 once the child is reaped, for a
 * detached handle, and for NULL. Since 1.2.
 */
int tubo_process_pidfd(const tubo_process *process);

/**
 * @brief Blocks until the child exits and reaps it.
 *
 * @param out optional: receives the Python-style exit code (code, or -signal).
 * @param process the process (borrowed).
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK`, `TUBO_E_CLOSED` (detached), `TUBO_E_SYSTEM` (also: the
 *   status was taken by a foreign waitpid and this kernel, before 6.15, cannot
 *   give it back), `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_process_wait(int *out, tubo_process *process, tubo_error **err);

/**
 * @brief Waits up to `timeout_ms` (negative: forever) for the child to exit.
 *
 * @param out optional: receives the Python-style exit code once reaped.
 * @param process the process (borrowed).
 * @param timeout_ms milliseconds to wait: 0 only looks, negative waits forever.
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK` when the child was reaped, `TUBO_E_TIMEOUT` if it still
 *   runs, or the errors of `tubo_process_wait`.
 */
int tubo_process_wait_timeout(int *out, tubo_process *process, int64_t timeout_ms,
                              tubo_error **err);

/**
 * @brief Reaps the child if it has exited, without blocking.
 *
 * @return `TUBO_OK` when reaped, `TUBO_E_TIMEOUT` if it still runs, or the
 *   errors of `tubo_process_wait`. `out` as for `tubo_process_wait_timeout`.
 */
int tubo_process_try_wait(int *out, tubo_process *process, tubo_error **err);

/** @brief Sends the signal `signo` through the pidfd (never to a recycled pid). @return `TUBO_OK`,
 * `TUBO_E_CLOSED`, `TUBO_E_SYSTEM`, `TUBO_E_INVALID_ARGUMENT`. */
int tubo_process_signal(tubo_process *process, int signo, tubo_error **err);

/** @brief Sends SIGTERM. See `tubo_process_signal`. */
int tubo_process_terminate(tubo_process *process, tubo_error **err);

/** @brief Sends SIGKILL. See `tubo_process_signal`. */
int tubo_process_kill(tubo_process *process, tubo_error **err);

/**
 * @brief Sends `signo` to every process of the child's process group (the
 * child leads it: `tubo_command_new_process_group`, `TUBO_FORK_NEW_PROCESS_GROUP`).
 *
 * Only until the child is reaped (after that its group id could name another
 * group). Succeeds if nobody is left in the group. C++: `tubo::Process::SignalGroup`.
 *
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL, or the child does not
 *   lead its own group), `TUBO_E_CLOSED` (empty, detached or reaped handle),
 *   `TUBO_E_SYSTEM` (a bad signal number).
 */
int tubo_process_signal_group(tubo_process *process, int signo, tubo_error **err);

/**
 * @brief Non-zero if the child leads its own process group. 0 for NULL.
 */
int tubo_process_leads_group(const tubo_process *process);

/**
 * @brief Leaves the child running without an owner (a background thread
 * reaps it). The handle (borrowed) becomes empty; still free it.
 *
 * A child started with die-with-parent still dies with this process.
 *
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL), or `TUBO_E_SYSTEM` if
 *   the reaper thread cannot be created (RLIMIT_NPROC): the handle then still
 *   owns its child, as before the call.
 */
int tubo_process_detach(tubo_process *process, tubo_error **err);

/** @brief Stop sequence: how long to wait for the child to exit by itself (ms, negative: forever).
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_process_set_stop_grace(tubo_process *process, int64_t grace_ms, tubo_error **err);

/** @brief Stop sequence: the signal sent after the grace period (0: straight to SIGKILL). @return
 * `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_process_set_stop_signal(tubo_process *process, int signo, tubo_error **err);

/** @brief Stop sequence: how long to wait after the signal before SIGKILL (ms). @return `TUBO_OK`
 * or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_process_set_stop_timeout(tubo_process *process, int64_t timeout_ms, tubo_error **err);

/** @brief 1 if the child (borrowed handle) has been reaped, so its exit status is known; else 0. */
int tubo_process_reaped(const tubo_process *process);

/** @brief 1 if the child was reaped and exited normally; else 0. */
int tubo_process_exited(const tubo_process *process);

/** @brief The exit code (0-255) if the child exited normally; else -1. */
int tubo_process_exit_code(const tubo_process *process);

/** @brief 1 if the child was reaped and a signal killed it; else 0. */
int tubo_process_signaled(const tubo_process *process);

/** @brief The signal that killed the child; else 0. */
int tubo_process_term_signal(const tubo_process *process);

/** @brief 1 if a signal killed the child and it dumped core; else 0. */
int tubo_process_core_dumped(const tubo_process *process);

/** @brief The Python-style exit code (code, or -signal) once reaped; 0 before (check
 * `tubo_process_reaped`). */
int tubo_process_returncode(const tubo_process *process);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_PROCESS_H_ */
