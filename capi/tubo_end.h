/**
 * @file
 * @brief Pipes and their ends: create, send, receive, poll, buffer, close.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_END_H_
#define TUBO_CAPI_TUBO_END_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The kind of a pipe end.
 */
typedef enum tubo_end_kind {
  TUBO_END_READ = 1,  /**< Receives only (the read end of a simplex pipe). */
  TUBO_END_WRITE = 2, /**< Sends only (the write end of a simplex pipe). */
  TUBO_END_DUPLEX = 3 /**< Sends and receives (an end of a duplex pipe). */
} tubo_end_kind;

/* ------------------------------------------------------------------------ */
/* Pipes and ends                                                           */
/* ------------------------------------------------------------------------ */

/**
 * @brief Creates a simplex pipe: what is sent on `*out_writer` is received on `*out_reader`.
 *
 * @param out_reader receives the new read end (caller frees with `tubo_end_free`).
 * @param out_writer receives the new write end (caller frees with `tubo_end_free`).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT`, `TUBO_E_SYSTEM` (EMFILE, ...).
 */
int tubo_pipe_new(tubo_end **out_reader, tubo_end **out_writer, tubo_error **err);

/**
 * @brief Creates a duplex pipe: two connected duplex ends (a socket pair).
 *
 * @param out_first receives one end (caller frees it).
 * @param out_second receives the other end (caller frees it).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT`, `TUBO_E_SYSTEM`.
 */
int tubo_duplex_pipe_new(tubo_end **out_first, tubo_end **out_second, tubo_error **err);

/**
 * @brief Makes an end of kind `kind` that owns the descriptor `fd`.
 *
 * @param out receives the new end (caller frees it).
 * @param fd a blocking descriptor, **consumed**: closed on failure (unless negative).
 * @param kind the kind of end (a `tubo_end_kind`).
 * @param err optional error output.
 * @return `TUBO_OK`, or `TUBO_E_INVALID_ARGUMENT` (bad kind, negative fd, NULL out).
 */
int tubo_end_adopt_fd(tubo_end **out, int fd, int kind, tubo_error **err);

/**
 * @brief Flushes (ignoring errors), closes and frees `end` (consumed). NULL is allowed.
 *
 * Freeing the last write end makes the readers see EOF.
 */
void tubo_end_free(tubo_end *end);

/** @brief The kind of `end` (borrowed), or 0 for NULL. */
int tubo_end_kind_of(const tubo_end *end);

/** @brief The descriptor of `end` (borrowed; the end keeps owning it), or -1 if NULL or closed. */
int tubo_end_fd(const tubo_end *end);

/**
 * @brief Gives up the descriptor of `end` (borrowed), which becomes closed.
 *
 * @param out receives the descriptor, which the caller then owns.
 * @param end the end; still freed by the caller.
 * @param err optional error output.
 * @return `TUBO_OK`; `TUBO_E_CLOSED`; `TUBO_E_OTHER` if bytes were already
 *   read ahead (the end is unchanged); a flush error.
 */
int tubo_end_release_fd(int *out, tubo_end *end, tubo_error **err);

/**
 * @brief Sends `len` bytes at `data` (borrowed) as one message on a write or duplex end.
 *
 * Blocks until the message is written (or stored in the send buffer); the
 * bytes are copied or written before it returns. `data` may be NULL when `len` is 0.
 *
 * @return `TUBO_OK`, `TUBO_E_PEER_CLOSED` (`tubo_error_errno`: `EPIPE` or
 *   `ECONNRESET`), `TUBO_E_CLOSED`, `TUBO_E_SYSTEM`, `TUBO_E_INVALID_ARGUMENT`
 *   (NULL end or data, a read end).
 */
int tubo_end_send(tubo_end *end, const void *data, size_t len, tubo_error **err);

/**
 * @brief Sends `len` bytes at `data` as one message on a write or duplex `end`
 * (borrowed) without blocking.
 *
 * A message is either not accepted (nothing of it was written: the call
 * returns `TUBO_E_TIMEOUT`, as `tubo_process_try_wait` does for "not yet", and
 * the same message may be offered again) or accepted: written whole, or
 * committed, when only part of it could be written: the end then keeps a copy
 * of the rest (`tubo_end_unsent_bytes`) and writes it before anything else on
 * the next send, flush or close. A call first tries to finish such a rest; if
 * it cannot, the new message is not accepted. With a send buffer, the
 * buffered messages and this one are written together (write-through). Wait
 * for room with `tubo_wait_set_add_end_writable`.
 *
 * @return `TUBO_OK` (accepted), `TUBO_E_TIMEOUT` (would block, nothing
 *   written), or the errors of `tubo_end_send` (`TUBO_E_PEER_CLOSED` when the
 *   readers are gone; never SIGPIPE).
 */
int tubo_end_try_send(tubo_end *end, const void *data, size_t len, tubo_error **err);

/**
 * @brief Sends one message, waiting at most `timeout_ms` for room (negative:
 * forever, as `tubo_end_send`; 0: as `tubo_end_try_send`).
 *
 * @return `TUBO_OK` when the message was accepted (written, or committed with
 *   its rest kept by the end when the time ran out after part of it was
 *   written); `TUBO_E_TIMEOUT` only when nothing of it was written (retry the
 *   same message); otherwise the errors of `tubo_end_send`.
 */
int tubo_end_send_timeout(tubo_end *end, const void *data, size_t len, int64_t timeout_ms,
                          tubo_error **err);

/**
 * @brief Receives the next message into a new library buffer.
 *
 * @param out receives the message (free it with `tubo_bytes_free`); set to NULL at EOF.
 * @param end a read or duplex end (borrowed).
 * @param err optional error output.
 * @return `TUBO_OK`; `TUBO_EOF` at end of stream (again on every later call);
 *   `TUBO_E_TRUNCATED`, `TUBO_E_BAD_LENGTH`, `TUBO_E_TOO_LARGE` (sticky: the
 *   end is unusable after them); `TUBO_E_CLOSED`; `TUBO_E_SYSTEM`;
 *   `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_end_recv(tubo_bytes **out, tubo_end *end, tubo_error **err);

/**
 * @brief Receives the next message into the caller's buffer.
 *
 * @param out_len receives the size stored (`TUBO_OK`), the size needed
 *   (`TUBO_E_BUFFER_TOO_SMALL`) or 0 (`TUBO_EOF`).
 * @param end a read or duplex end (borrowed).
 * @param buf room for `cap` bytes (borrowed; may be NULL when `cap` is 0).
 * @param cap the capacity of `buf`.
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_EOF`, `TUBO_E_BUFFER_TOO_SMALL` (the message is
 *   kept: the next receive returns it), or the errors of `tubo_end_recv`.
 */
int tubo_end_recv_into(size_t *out_len, tubo_end *end, void *buf, size_t cap, tubo_error **err);

/**
 * @brief Receives the next message into a new library buffer, giving up
 * after `timeout_ms` without losing any byte.
 *
 * Like `tubo_end_recv`, but when the deadline passes first, wherever it is in
 * a frame (header or payload), it returns `TUBO_E_TIMEOUT` and the end keeps
 * every byte read so far: the next receive call continues the same message,
 * with nothing lost or repeated. Memory grows with the bytes that arrive.
 *
 * @param out receives the message (free it with `tubo_bytes_free`); set to
 *   NULL at EOF; untouched on failure.
 * @param end a read or duplex end (borrowed).
 * @param timeout_ms milliseconds to wait: 0 takes only what has already
 *   arrived, negative waits forever (then it is `tubo_end_recv`).
 * @param err optional error output.
 * @return `TUBO_OK`; `TUBO_EOF`; `TUBO_E_TIMEOUT` (not sticky: the end stays
 *   usable); or the errors of `tubo_end_recv`.
 */
int tubo_end_recv_timeout(tubo_bytes **out, tubo_end *end, int64_t timeout_ms, tubo_error **err);

/**
 * @brief Receives the next message into the caller's buffer, giving up after
 * `timeout_ms` without losing any byte.
 *
 * Like `tubo_end_recv_into`, but when the deadline passes first it returns
 * `TUBO_E_TIMEOUT`, and the end keeps every byte read so far (also the part
 * of a payload already stored in `buf`, which it copies aside, so the next
 * call may pass another buffer); the next receive call continues the same
 * message.
 *
 * @param out_len receives the size stored (`TUBO_OK`), the size needed
 *   (`TUBO_E_BUFFER_TOO_SMALL`) or 0 (`TUBO_EOF`); untouched on other failures.
 * @param end a read or duplex end (borrowed).
 * @param buf room for `cap` bytes (borrowed; may be NULL when `cap` is 0).
 * @param cap the capacity of `buf`.
 * @param timeout_ms milliseconds to wait: 0 takes only what has already
 *   arrived, negative waits forever (then it is `tubo_end_recv_into`).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_EOF`, `TUBO_E_BUFFER_TOO_SMALL`, `TUBO_E_TIMEOUT`
 *   (not sticky), or the errors of `tubo_end_recv`.
 */
int tubo_end_recv_into_timeout(size_t *out_len, tubo_end *end, void *buf, size_t cap,
                               int64_t timeout_ms, tubo_error **err);

/**
 * @brief Waits up to `timeout_ms` for something to receive on a read or duplex end.
 *
 * @param out receives 1 if a receive can make progress without waiting (a
 *   whole message buffered, the descriptor readable, or end of stream), else
 *   0. Part of a message kept after a timeout does not count by itself.
 * @param end the end (borrowed).
 * @param timeout_ms milliseconds to wait: 0 only looks, negative waits forever.
 * @param err optional error output.
 * @return `TUBO_OK`, a sticky framing error, `TUBO_E_CLOSED`, `TUBO_E_SYSTEM`,
 *   `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_end_poll(int *out, tubo_end *end, int64_t timeout_ms, tubo_error **err);

/**
 * @brief Flushes and closes `end` (borrowed; still freed by the caller).
 *
 * @return `TUBO_OK` or the flush error (the end is closed either way);
 *   closing a closed end succeeds.
 */
int tubo_end_close(tubo_end *end, tubo_error **err);

/**
 * @brief Half-closes a duplex end: the peer sees EOF, replies still arrive.
 *
 * @return `TUBO_OK`, the flush error, `TUBO_E_CLOSED`, `TUBO_E_SYSTEM`,
 *   `TUBO_E_INVALID_ARGUMENT` (not a duplex end).
 */
int tubo_end_close_write(tubo_end *end, tubo_error **err);

/**
 * @brief Sets the largest message a read or duplex end (borrowed) accepts.
 *
 * A longer message is a sticky `TUBO_E_TOO_LARGE`. The new maximum also
 * applies to a message whose header was already read (kept after
 * `TUBO_E_BUFFER_TOO_SMALL` or `TUBO_E_TIMEOUT`): if it is longer, the next
 * receive call fails with `TUBO_E_TOO_LARGE`.
 *
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT` (NULL, or a write end).
 */
int tubo_end_set_max_message_size(tubo_end *end, uint64_t max, tubo_error **err);

/** @brief The largest message a read or duplex end (borrowed) accepts; 0 for NULL or a write end.
 */
uint64_t tubo_end_max_message_size(const tubo_end *end);

/**
 * @brief Sets the send buffer of a write or duplex end (borrowed) to `capacity` bytes (0:
 * unbuffered).
 *
 * @return `TUBO_OK`, a flush error, or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_end_set_send_buffer_size(tubo_end *end, size_t capacity, tubo_error **err);

/** @brief The send buffer capacity of a write or duplex end (borrowed); 0 if unbuffered, NULL or a
 * read end. */
size_t tubo_end_send_buffer_size(const tubo_end *end);

/**
 * @brief Writes out the messages buffered on a write or duplex end (borrowed).
 *
 * @return `TUBO_OK` or the errors of `tubo_end_send`.
 */
int tubo_end_flush(tubo_end *end, tubo_error **err);

/**
 * @brief Writes out what a write or duplex `end` (borrowed) holds (a committed
 * rest and the send buffer), waiting at most `timeout_ms` (negative: forever,
 * as `tubo_end_flush`; 0 only tries).
 *
 * @return `TUBO_OK` once nothing is left, `TUBO_E_TIMEOUT` if some is still
 *   held (progress is kept), or the errors of `tubo_end_send`.
 */
int tubo_end_flush_timeout(tubo_end *end, int64_t timeout_ms, tubo_error **err);

/** @brief Bytes a write or duplex `end` (borrowed) has accepted but not yet written (a committed
 * rest plus the send buffer); 0 for NULL or a read end. */
size_t tubo_end_unsent_bytes(const tubo_end *end);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_END_H_ */
