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
 * **Conventions** (they hold for every declaration below):
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
 */
#ifndef TUBO_CAPI_TUBO_H_
#define TUBO_CAPI_TUBO_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Major version: changes only with an incompatible ABI (and the SONAME). */
#define TUBO_VERSION_MAJOR 1
/** @brief Minor version: new functions, compatible. */
#define TUBO_VERSION_MINOR 1
/** @brief Patch version: fixes only. */
#define TUBO_VERSION_PATCH 0
/** @brief The version as one number, `MAJOR * 10000 + MINOR * 100 + PATCH`. */
#define TUBO_VERSION_NUMBER \
  (TUBO_VERSION_MAJOR * 10000 + TUBO_VERSION_MINOR * 100 + TUBO_VERSION_PATCH)

/**
 * @brief Status codes returned by the fallible calls.
 *
 * `TUBO_OK` and `TUBO_EOF` are not errors. The codes from `TUBO_E_OTHER` down
 * to (not including) `TUBO_E_C_ONLY_FIRST` are minus the stable kinds of the
 * C++ API's one table of error kinds (`TUBO_ERROR_KINDS` in `tubo/error.h`;
 * the library refuses to build if this list disagrees with it). Codes from
 * `TUBO_E_C_ONLY_FIRST` down are the C ABI's own.
 */
typedef enum tubo_code {
  TUBO_OK = 0,                   /**< Success. */
  TUBO_EOF = 1,                  /**< End of stream at a message boundary: a normal outcome. */
  TUBO_E_OTHER = -1,             /**< A failure with no more specific kind. */
  TUBO_E_INVALID_ARGUMENT = -2,  /**< A NULL or invalid argument, or the wrong kind of end. */
  TUBO_E_SYSTEM = -3,            /**< A system call failed; the message has its errno text. */
  TUBO_E_CLOSED = -4,            /**< The end or process handle is closed, released or detached. */
  TUBO_E_TRUNCATED = -5,         /**< End of stream inside a message (the writer died mid-message). */
  TUBO_E_BAD_LENGTH = -6,        /**< A frame header with a negative length other than -1. */
  TUBO_E_TOO_LARGE = -7,         /**< A message longer than the end's maximum message size. */
  TUBO_E_PEER_CLOSED = -8,       /**< A send to an end whose readers are all gone. */
  TUBO_E_TIMEOUT = -9,           /**< A deadline passed. */
  TUBO_E_SPAWN = -10,            /**< Starting a process failed (stage, program and errno in the message). */
  TUBO_E_CHANNEL = -11,          /**< A worker channel is malformed, missing, taken, of the wrong mode, or not open. */
  TUBO_E_C_ONLY_FIRST = -1000,   /**< Not a code: where the C ABI's own codes begin. */
  TUBO_E_BUFFER_TOO_SMALL = -1000, /**< The caller's buffer cannot hold the next message (which stays unread). */
  TUBO_E_NO_MEMORY = -1001       /**< Memory ran out. */
} tubo_code;

/**
 * @brief The kind of a pipe end.
 */
typedef enum tubo_end_kind {
  TUBO_END_READ = 1,   /**< Receives only (the read end of a simplex pipe). */
  TUBO_END_WRITE = 2,  /**< Sends only (the write end of a simplex pipe). */
  TUBO_END_DUPLEX = 3  /**< Sends and receives (an end of a duplex pipe). */
} tubo_end_kind;

/**
 * @brief A child's standard stream, for the `tubo_command_stdio_*` setters.
 */
typedef enum tubo_stdio_stream {
  TUBO_STDIN = 0,  /**< Standard input (fd 0). */
  TUBO_STDOUT = 1, /**< Standard output (fd 1). */
  TUBO_STDERR = 2  /**< Standard error (fd 2). */
} tubo_stdio_stream;

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

/** @brief An error: a `tubo_code` and a message. Opaque. */
typedef struct tubo_error tubo_error;
/** @brief A pipe end (read, write or duplex). Opaque. */
typedef struct tubo_end tubo_end;
/** @brief A builder for the exec and self start methods. Opaque. */
typedef struct tubo_command tubo_command;
/** @brief The one owner of a child process. Opaque. */
typedef struct tubo_process tubo_process;
/** @brief A set of ends and processes to wait on together. Opaque. */
typedef struct tubo_wait_set tubo_wait_set;

/**
 * @brief A message received into a library buffer, freed with `tubo_bytes_free`.
 *
 * Only the library allocates it; its fields are read-only for the caller.
 */
typedef struct tubo_bytes {
  const uint8_t *data; /**< The bytes (may be NULL when `len` is 0). */
  size_t len;          /**< The number of bytes. */
} tubo_bytes;

/**
 * @brief The function a forked child runs (see `tubo_fork`).
 *
 * `ends` are the ends moved into the child, in the order given to `tubo_fork`
 * (`n_ends` of them; NULL when 0), borrowed: the child exits when the function
 * returns, and its return value (0 to 255) is the exit code.
 */
typedef int (*tubo_fork_fn)(void *ctx, tubo_end **ends, size_t n_ends);

/**
 * @brief An entry point of the self start method (see `tubo_entry_register`).
 *
 * `argc`/`argv` hold the arguments added with `tubo_command_arg` (argv[0] is
 * the entry's name; `argv[argc]` is NULL). The return value is the exit code.
 */
typedef int (*tubo_entry_fn)(int argc, char **argv);

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/** @brief The version of the loaded library as `TUBO_VERSION_NUMBER` computes it. Thread-safe. */
unsigned tubo_version(void);

/** @brief The version of the loaded library as a static string, e.g. `"1.1.0"`. Thread-safe. */
const char *tubo_version_string(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/** @brief Frees `error` (owned by the caller, consumed). NULL is allowed. */
void tubo_error_free(tubo_error *error);

/** @brief The code of `error` (borrowed); `TUBO_OK` for NULL. */
int tubo_error_code(const tubo_error *error);

/**
 * @brief The message of `error` (borrowed); `""` for NULL.
 *
 * The string belongs to `error` and lives until it is freed.
 */
const char *tubo_error_message(const tubo_error *error);

/** @brief A short static name for `code` (`"eof"`, `"truncated"`, ...), `"unknown"` otherwise. Thread-safe. */
const char *tubo_code_name(int code);

/* ------------------------------------------------------------------------ */
/* Bytes                                                                    */
/* ------------------------------------------------------------------------ */

/** @brief Frees `bytes` (consumed) and its data. NULL is allowed. */
void tubo_bytes_free(tubo_bytes *bytes);

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
 * @return `TUBO_OK`, `TUBO_E_PEER_CLOSED`, `TUBO_E_CLOSED`, `TUBO_E_SYSTEM`,
 *   `TUBO_E_INVALID_ARGUMENT` (NULL end or data, a read end).
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

/** @brief The largest message a read or duplex end (borrowed) accepts; 0 for NULL or a write end. */
uint64_t tubo_end_max_message_size(const tubo_end *end);

/**
 * @brief Sets the send buffer of a write or duplex end (borrowed) to `capacity` bytes (0: unbuffered).
 *
 * @return `TUBO_OK`, a flush error, or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_end_set_send_buffer_size(tubo_end *end, size_t capacity, tubo_error **err);

/** @brief The send buffer capacity of a write or duplex end (borrowed); 0 if unbuffered, NULL or a read end. */
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

/** @brief Bytes a write or duplex `end` (borrowed) has accepted but not yet written (a committed rest plus the send buffer); 0 for NULL or a read end. */
size_t tubo_end_unsent_bytes(const tubo_end *end);

/* ------------------------------------------------------------------------ */
/* Worker side: channels (contract 2)                                       */
/* ------------------------------------------------------------------------ */

/**
 * @brief Takes the channel `name` (borrowed string) passed by the spawner as a read end.
 *
 * Each name can be taken once per process. Thread-safe.
 *
 * @param out receives the end (caller frees it).
 * @param name the channel's name (borrowed string).
 * @param err optional error output (see the file comment).
 * @return `TUBO_OK`, `TUBO_E_CHANNEL` (malformed `TUBO_CHANNELS`, missing or
 *   taken name, wrong mode, fd not open), `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_channel_take_read_end(tubo_end **out, const char *name, tubo_error **err);

/** @brief Takes the channel `name` as a write end (mode `w`). See `tubo_channel_take_read_end`. */
int tubo_channel_take_write_end(tubo_end **out, const char *name, tubo_error **err);

/** @brief Takes the channel `name` as a duplex end (mode `rw`). See `tubo_channel_take_read_end`. */
int tubo_channel_take_duplex_end(tubo_end **out, const char *name, tubo_error **err);

/* ------------------------------------------------------------------------ */
/* Start methods: exec and self                                             */
/* ------------------------------------------------------------------------ */

/**
 * @brief Creates a command that runs `program` (borrowed string): a path, or a
 * name without `/` looked up in PATH (on by default, as `execvp`; see
 * `tubo_command_search_path`).
 *
 * @param out receives the builder (caller frees it with `tubo_command_free`).
 * @param program the program (borrowed string, copied).
 * @param err optional error output (see the file comment).
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT`, `TUBO_E_NO_MEMORY`.
 */
int tubo_command_new(tubo_command **out, const char *program, tubo_error **err);

/**
 * @brief Creates a command that re-executes this binary into the entry point
 * `entry` (borrowed string), registered with `tubo_entry_register`.
 *
 * @param out receives the builder (caller frees it).
 * @param entry the entry point's name (borrowed string, copied).
 * @param err optional error output (see the file comment).
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_new_self(tubo_command **out, const char *entry, tubo_error **err);

/** @brief Frees `command` (consumed) and closes the ends and descriptors it still holds. NULL is allowed. */
void tubo_command_free(tubo_command *command);

/** @brief Appends the argument `arg` (copied). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_arg(tubo_command *command, const char *arg, tubo_error **err);

/** @brief Sets `argv[0]` (copied). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_argv0(tubo_command *command, const char *argv0, tubo_error **err);

/** @brief Whether a program name without `/` is looked up in PATH (`search` non-zero; the default). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_search_path(tubo_command *command, int search, tubo_error **err);

/** @brief Starts the child with an empty environment (plus what `tubo_command_env_set` adds). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_env_clear(tubo_command *command, tubo_error **err);

/** @brief Sets `name=value` (both copied) in the child's environment. @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_env_set(tubo_command *command, const char *name, const char *value,
                         tubo_error **err);

/** @brief Removes `name` (copied) from the child's environment. @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_env_unset(tubo_command *command, const char *name, tubo_error **err);

/** @brief Runs the child in directory `dir` (copied). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_working_directory(tubo_command *command, const char *dir, tubo_error **err);

/**
 * @brief Whether the child gets SIGKILL when this process dies, by any cause
 * (SIGKILL included). On (non-zero) by default.
 *
 * The kernel's parent-death signal, set in the child before it execs. A
 * spawn from a thread other than the main one creates the child from a tubo
 * thread that lives as long as the process, so the child dies with the
 * process, not with the calling thread. The kernel clears it when the child
 * execs a set-user-ID or set-group-ID program (or one with file
 * capabilities). C++: `tubo::Command::DieWithParent`.
 *
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT` (NULL command).
 */
int tubo_command_die_with_parent(tubo_command *command, int die, tubo_error **err);

/**
 * @brief Whether the child leads a new process group (off, 0, by default), so
 * that `tubo_process_signal_group` and the stop sequence reach what it starts.
 * C++: `tubo::Command::NewProcessGroup`.
 *
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT` (NULL command).
 */
int tubo_command_new_process_group(tubo_command *command, int lead, tubo_error **err);

/** @brief The child's `stream` (a `tubo_stdio_stream`) is the parent's own (the default). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_stdio_inherit(tubo_command *command, int stream, tubo_error **err);

/** @brief The child's `stream` is `/dev/null`. @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_stdio_null(tubo_command *command, int stream, tubo_error **err);

/**
 * @brief The child's `stream` is the file at `path` (copied): read for stdin,
 * created or truncated for stdout and stderr (opened in the child).
 *
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_stdio_path(tubo_command *command, int stream, const char *path,
                            tubo_error **err);

/**
 * @brief The child's `stream` is the descriptor `fd`, **consumed** even on
 * failure (closed in the parent when the command is spawned or freed).
 *
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_stdio_fd(tubo_command *command, int stream, int fd, tubo_error **err);

/**
 * @brief The child's `stream` is the pipe end `end`, **consumed** even on
 * failure (raw bytes; the framing is up to the two programs).
 *
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_stdio_end(tubo_command *command, int stream, tubo_end *end, tubo_error **err);

/**
 * @brief Passes `end` to the child as channel `name` (copied), with the mode
 * of its kind (`r`, `w`, `rw`).
 *
 * @param command the builder (borrowed).
 * @param name `[A-Za-z0-9_.-]{1,64}`, unique in the command (checked by spawn).
 * @param end **consumed** even on failure: closed in the parent when the
 *   command is spawned or freed.
 * @param err optional error output (see the file comment).
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_channel(tubo_command *command, const char *name, tubo_end *end,
                         tubo_error **err);

/**
 * @brief Starts the child.
 *
 * The channels and stdio descriptors of `command` are closed in the parent
 * when this returns, success or failure; the builder itself stays the
 * caller's (free it with `tubo_command_free`).
 *
 * @param out receives the process (caller frees it with `tubo_process_free`).
 * @param command the builder (borrowed).
 * @param err optional error output (see the file comment).
 * @return `TUBO_OK`, `TUBO_E_SPAWN` (the message names stage, program and
 *   errno), `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_spawn(tubo_process **out, tubo_command *command, tubo_error **err);

/**
 * @brief Registers `fn` as the self entry point `name`.
 *
 * Call it at the start of `main`, before `tubo_run_entry_if_requested`.
 * Thread-safe.
 *
 * @param name the entry's name (borrowed string), a valid channel name (see
 *   `tubo_command_channel`).
 * @param fn the function the worker runs.
 * @param err optional error output (see the file comment).
 * @return `TUBO_OK`, or `TUBO_E_INVALID_ARGUMENT` (NULL, invalid or taken name).
 */
int tubo_entry_register(const char *name, tubo_entry_fn fn, tubo_error **err);

/**
 * @brief If this process was started by `tubo_command_spawn` of a self
 * command, runs the requested entry with its arguments and exits with its
 * return value (stdio flushed); an unknown entry prints an error and exits
 * with 2. Otherwise returns at once. `argv` is borrowed.
 */
void tubo_run_entry_if_requested(int argc, char **argv);

/* ------------------------------------------------------------------------ */
/* Start method: fork                                                       */
/* ------------------------------------------------------------------------ */

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
 * @brief Blocks until the child exits and reaps it.
 *
 * @param out optional: receives the Python-style exit code (code, or -signal).
 * @param process the process (borrowed).
 * @param err optional error output (see the file comment).
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
 * @param err optional error output (see the file comment).
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

/** @brief Sends the signal `signo` through the pidfd (never to a recycled pid). @return `TUBO_OK`, `TUBO_E_CLOSED`, `TUBO_E_SYSTEM`, `TUBO_E_INVALID_ARGUMENT`. */
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

/** @brief Stop sequence: how long to wait for the child to exit by itself (ms, negative: forever). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_process_set_stop_grace(tubo_process *process, int64_t grace_ms, tubo_error **err);

/** @brief Stop sequence: the signal sent after the grace period (0: straight to SIGKILL). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_process_set_stop_signal(tubo_process *process, int signo, tubo_error **err);

/** @brief Stop sequence: how long to wait after the signal before SIGKILL (ms). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
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

/** @brief The Python-style exit code (code, or -signal) once reaped; 0 before (check `tubo_process_reaped`). */
int tubo_process_returncode(const tubo_process *process);

/* ------------------------------------------------------------------------ */
/* Waiting on many                                                          */
/* ------------------------------------------------------------------------ */

/**
 * @brief Creates an empty wait set.
 *
 * @param out receives the set (caller frees it with `tubo_wait_set_free`).
 * @param err optional error output (see the file comment).
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

#endif /* TUBO_CAPI_TUBO_H_ */
