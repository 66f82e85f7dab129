/**
 * @file
 * @brief The exec and self start methods: a command builder and its spawn.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_COMMAND_H_
#define TUBO_CAPI_TUBO_COMMAND_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Start methods: exec and self                                             */
/* ------------------------------------------------------------------------ */

/**
 * @brief A child's standard stream, for the `tubo_command_stdio_*` setters.
 */
typedef enum tubo_stdio_stream {
  TUBO_STDIN = 0,  /**< Standard input (fd 0). */
  TUBO_STDOUT = 1, /**< Standard output (fd 1). */
  TUBO_STDERR = 2  /**< Standard error (fd 2). */
} tubo_stdio_stream;

/**
 * @brief Creates a command that runs `program` (borrowed string): a path, or a
 * name without `/` looked up in PATH (on by default, as `execvp`; see
 * `tubo_command_search_path`).
 *
 * @param out receives the builder (caller frees it with `tubo_command_free`).
 * @param program the program (borrowed string, copied).
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT`, `TUBO_E_NO_MEMORY`.
 */
int tubo_command_new(tubo_command **out, const char *program, tubo_error **err);

/**
 * @brief Creates a command that re-executes this binary into the entry point
 * `entry` (borrowed string), registered with `tubo_entry_register`.
 *
 * @param out receives the builder (caller frees it).
 * @param entry the entry point's name (borrowed string, copied).
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_new_self(tubo_command **out, const char *entry, tubo_error **err);

/** @brief Frees `command` (consumed) and closes the ends and descriptors it still holds. NULL is
 * allowed. */
void tubo_command_free(tubo_command *command);

/** @brief Appends the argument `arg` (copied). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_arg(tubo_command *command, const char *arg, tubo_error **err);

/** @brief Sets `argv[0]` (copied). @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_argv0(tubo_command *command, const char *argv0, tubo_error **err);

/** @brief Whether a program name without `/` is looked up in PATH (`search` non-zero; the default).
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_search_path(tubo_command *command, int search, tubo_error **err);

/** @brief Starts the child with an empty environment (plus what `tubo_command_env_set` adds).
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_env_clear(tubo_command *command, tubo_error **err);

/** @brief Sets `name=value` (both copied) in the child's environment. @return `TUBO_OK` or
 * `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_env_set(tubo_command *command, const char *name, const char *value,
                         tubo_error **err);

/** @brief Removes `name` (copied) from the child's environment. @return `TUBO_OK` or
 * `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_env_unset(tubo_command *command, const char *name, tubo_error **err);

/** @brief Runs the child in directory `dir` (copied). @return `TUBO_OK` or
 * `TUBO_E_INVALID_ARGUMENT`. */
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

/** @brief The child's `stream` (a `tubo_stdio_stream`) is the parent's own (the default). @return
 * `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_stdio_inherit(tubo_command *command, int stream, tubo_error **err);

/** @brief The child's `stream` is `/dev/null`. @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`. */
int tubo_command_stdio_null(tubo_command *command, int stream, tubo_error **err);

/**
 * @brief The child's `stream` is the file at `path` (copied): read for stdin,
 * created or truncated for stdout and stderr (opened in the child).
 *
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_stdio_path(tubo_command *command, int stream, const char *path, tubo_error **err);

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
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK` or `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_channel(tubo_command *command, const char *name, tubo_end *end, tubo_error **err);

/**
 * @brief Starts the child.
 *
 * The channels and stdio descriptors of `command` are closed in the parent
 * when this returns, success or failure; the builder itself stays the
 * caller's (free it with `tubo_command_free`).
 *
 * @param out receives the process (caller frees it with `tubo_process_free`).
 * @param command the builder (borrowed).
 * @param err optional error output (see the conventions in `tubo.h`).
 * @return `TUBO_OK`, `TUBO_E_SPAWN` (the message names stage, program and
 *   errno; `tubo_error_errno` gives the errno, `ENOENT` for a program that
 *   does not exist), `TUBO_E_INVALID_ARGUMENT`.
 */
int tubo_command_spawn(tubo_process **out, tubo_command *command, tubo_error **err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_COMMAND_H_ */
