/**
 * @file
 * @brief Entry points of the self start method: register them, run the requested one.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 */
#ifndef TUBO_CAPI_TUBO_ENTRY_H_
#define TUBO_CAPI_TUBO_ENTRY_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Self entry points                                                        */
/* ------------------------------------------------------------------------ */

/**
 * @brief An entry point of the self start method (see `tubo_entry_register`).
 *
 * `argc`/`argv` hold the arguments added with `tubo_command_arg` (argv[0] is
 * the entry's name; `argv[argc]` is NULL). The return value is the exit code.
 */
typedef int (*tubo_entry_fn)(int argc, char **argv);

/**
 * @brief Registers `fn` as the self entry point `name`.
 *
 * Call it at the start of `main`, before `tubo_run_entry_if_requested`.
 * Thread-safe.
 *
 * @param name the entry's name (borrowed string), a valid channel name (see
 *   `tubo_command_channel`).
 * @param fn the function the worker runs.
 * @param err optional error output (see the conventions in `tubo.h`).
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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_ENTRY_H_ */
