/**
 * @file
 * @brief What every part of the C ABI shares: status codes, the error object,
 * received bytes, the opaque handle types and the version calls.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_COMMON_H_
#define TUBO_CAPI_TUBO_COMMON_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Status codes returned by the fallible calls.
 *
 * `TUBO_OK` and `TUBO_EOF` are not errors. The codes from `TUBO_E_OTHER` down
 * to (not including) `TUBO_CODE_C_ONLY_FIRST` are minus the stable kinds of the
 * C++ API's one table of error kinds (`TUBO_ERROR_KINDS` in `tubo/error.h`;
 * the library refuses to build if this list disagrees with it). Codes from
 * `TUBO_CODE_C_ONLY_FIRST` down are the C ABI's own.
 */
typedef enum tubo_code {
  TUBO_OK = 0,                  /**< Success. */
  TUBO_EOF = 1,                 /**< End of stream at a message boundary: a normal outcome. */
  TUBO_E_OTHER = -1,            /**< A failure with no more specific kind. */
  TUBO_E_INVALID_ARGUMENT = -2, /**< A NULL or invalid argument, or the wrong kind of end. */
  TUBO_E_SYSTEM = -3,           /**< A system call failed; the message has its errno text. */
  TUBO_E_CLOSED = -4,           /**< The end or process handle is closed, released or detached. */
  TUBO_E_TRUNCATED = -5,   /**< End of stream inside a message (the writer died mid-message). */
  TUBO_E_BAD_LENGTH = -6,  /**< A frame header with a negative length other than -1. */
  TUBO_E_TOO_LARGE = -7,   /**< A message longer than the end's maximum message size. */
  TUBO_E_PEER_CLOSED = -8, /**< A send to an end whose readers are all gone. */
  TUBO_E_TIMEOUT = -9,     /**< A deadline passed. */
  TUBO_E_SPAWN = -10, /**< Starting a process failed (stage, program and errno in the message). */
  TUBO_E_CHANNEL =
      -11, /**< A worker channel is malformed, missing, taken, of the wrong mode, or not open. */
  TUBO_E_WORKER_DIED = -12,       /**< The pool worker running the task died (task, pid, status). */
  TUBO_E_TASK_FAILED = -13,       /**< The pool worker reported the task failed (its message). */
  TUBO_E_CANCELLED = -14,         /**< The task was cancelled, or its pool terminated. */
  TUBO_CODE_C_ONLY_FIRST = -1000, /**< Not a code: where the C ABI's own codes begin. */
  TUBO_E_BUFFER_TOO_SMALL =
      -1000, /**< The caller's buffer cannot hold the next message (which stays unread). */
  TUBO_E_NO_MEMORY = -1001 /**< Memory ran out. */
} tubo_code;

/** @brief An error: a `tubo_code`, a message and an errno (`tubo_error_errno`). Opaque. */
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

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/** @brief The version of the loaded library as `TUBO_VERSION_NUMBER` computes it. Thread-safe. */
unsigned tubo_version(void);

/** @brief The version of the loaded library as a static string, e.g. `"1.2.0"`. Thread-safe. */
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

/**
 * @brief The errno of the system call whose failure `error` (borrowed)
 * reports, or 0 when none applies; 0 for NULL.
 *
 * Set whatever the code when a system call's failure is the cause: always
 * for `TUBO_E_SYSTEM` and `TUBO_E_PEER_CLOSED` (`EPIPE`, `ECONNRESET`), and
 * for a `TUBO_E_SPAWN` whose cause is a failed call in the parent or in the
 * child (`ENOENT` for a program that does not exist, `EACCES` for one that
 * cannot be executed). 0 for failures no system call caused (a truncated
 * message, a NULL argument, a timeout). The message still ends with the
 * errno's text, for people; programs read the number here. Since 1.2.
 */
int tubo_error_errno(const tubo_error *error);

/** @brief A short static name for `code` (`"eof"`, `"truncated"`, ...), `"unknown"` otherwise.
 * Thread-safe. */
const char *tubo_code_name(int code);

/* ------------------------------------------------------------------------ */
/* Bytes                                                                    */
/* ------------------------------------------------------------------------ */

/** @brief Frees `bytes` (consumed) and its data. NULL is allowed. */
void tubo_bytes_free(tubo_bytes *bytes);

/**
 * @brief New bytes holding a copy of the `len` bytes at `data`, e.g. a
 * pool worker's result (see `tubo_pool_task_fn` in `tubo_pool.h`). Since 1.2.
 *
 * @param out receives the bytes (caller frees them with `tubo_bytes_free`,
 *   unless handed to the library).
 * @param data the bytes (may be NULL when `len` is 0).
 * @param len the number of bytes.
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL), `TUBO_E_NO_MEMORY`.
 */
int tubo_bytes_new(tubo_bytes **out, const void *data, size_t len, tubo_error **err);

/* ------------------------------------------------------------------------ */
/* SIGPIPE                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * @brief Declares that this process ignores or handles SIGPIPE, after
 * checking it, so that writes to pipes no longer block SIGPIPE in the calling
 * thread around each write (two `rt_sigprocmask` calls saved per send). A
 * send to a pipe without readers still fails with `TUBO_E_PEER_CLOSED`.
 *
 * Refused if SIGPIPE has its default disposition now (nothing is declared):
 * call `signal(SIGPIPE, SIG_IGN)` (or install a handler) first. The library
 * never changes the disposition itself; a program that restores the
 * default afterwards breaks its own promise. Thread-safe; declaring again is
 * harmless. C++: `tubo::DeclareSigpipeIgnored` (tubo/sigpipe.h, which says
 * more).
 *
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (default disposition),
 *   `TUBO_E_SYSTEM` (`sigaction` failed). Since 1.2.
 */
int tubo_declare_sigpipe_ignored(tubo_error **err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_COMMON_H_ */
