/**
 * @file
 * @brief Wait sets: one wait over many ends and processes.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_WAIT_SET_H_
#define TUBO_CAPI_TUBO_WAIT_SET_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Waiting on many                                                          */
/* ------------------------------------------------------------------------ */

/**
 * @brief Creates an empty wait set.
 *
 * @param out receives the set (caller frees it with `tubo_wait_set_free`).
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK`, `TUBO_E_SYSTEM`, `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_wait_set_new(tubo_wait_set **out, tubo_error **err);

/** @brief Frees `set` (consumed); what it watched is not touched. NULL is allowed. */
void tubo_wait_set_free(tubo_wait_set *set);

/**
 * @brief Watches the read or duplex `end` (borrowed: it must stay alive until
 * removed or the set is freed) under `key`.
 *
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (key in use, write end, NULL),
 *   `TUBO_E_CLOSED`, `TUBO_E_SYSTEM`.
 */
int tubo_wait_set_add_end(tubo_wait_set *set, tubo_end *end, uint64_t key, tubo_error **err);

/**
 * @brief Watches the write or duplex `end` (borrowed, kept alive as for
 * `tubo_wait_set_add_end`) for writability under `key`.
 *
 * Ready when a send can make progress without blocking (EPOLLOUT), when the
 * readers are gone (a send then fails with `TUBO_E_PEER_CLOSED`), or when the
 * end is closed or failed for good. It stays ready while there is room, so
 * watch an end only while it has something to send. One descriptor is
 * watched under one key: a duplex end is watched either for receiving
 * (`tubo_wait_set_add_end`) or for writability in one set.
 *
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (key in use, read end, NULL, the
 *   descriptor already watched), `TUBO_E_CLOSED` (also after
 *   `tubo_end_close_write`), `TUBO_E_SYSTEM`.
 */
int tubo_wait_set_add_end_writable(tubo_wait_set *set, tubo_end *end, uint64_t key,
                                   tubo_error **err);

/**
 * @brief Watches `process` (borrowed, kept alive as for ends) for its exit under `key`.
 *
 * @return as for `tubo_wait_set_add_end` (`TUBO_E_CLOSED` for a detached handle).
 */
int tubo_wait_set_add_process(tubo_wait_set *set, tubo_process *process, uint64_t key,
                              tubo_error **err);

/** @brief Stops watching `key`. @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT` (unknown key). */
int tubo_wait_set_remove(tubo_wait_set *set, uint64_t key, tubo_error **err);

/**
 * @brief The set's descriptor for event loops (Go's netpoller, asyncio),
 * borrowed from `set` (borrowed); -1 for NULL.
 *
 * An epoll descriptor, readable whenever a descriptor the set watches is
 * ready; the same number for the set's whole life. It belongs to the set:
 * never close it or read from it, and do not use it after
 * `tubo_wait_set_free`.
 *
 * The rule: call `tubo_wait_set_wait` with `timeout_ms` 0 first, and poll this
 * descriptor only when that found nothing; then wait again (0 timeout) once
 * it is readable. An end holding a whole message in its read-ahead buffer is
 * ready while its descriptor has nothing to read, and so are a closed end and
 * a reaped process: only `tubo_wait_set_wait` sees them. Readable means "call
 * `tubo_wait_set_wait`", which may still find nothing. Since 1.2.
 */
int tubo_wait_set_fd(const tubo_wait_set *set);

/** @brief The number of things watched by `set` (borrowed); 0 for NULL. */
size_t tubo_wait_set_size(const tubo_wait_set *set);

/**
 * @brief Waits until something watched is ready or `timeout_ms` passes.
 *
 * Nothing is consumed: the caller then receives or reaps. When more keys are
 * ready than `cap`, the first `cap` are stored and the rest show up again on
 * the next wait.
 *
 * @param out_count receives the number of keys stored in `keys` (0 after a timeout).
 * @param set the set (borrowed).
 * @param keys room for `cap` keys (borrowed; may be NULL when `cap` is 0).
 * @param cap the capacity of `keys`.
 * @param timeout_ms milliseconds: 0 only looks, negative waits forever.
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_SYSTEM`, `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_wait_set_wait(size_t *out_count, tubo_wait_set *set, uint64_t *keys, size_t cap,
                       int64_t timeout_ms, tubo_error **err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_WAIT_SET_H_ */
