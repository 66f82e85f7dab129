/**
 * @file
 * @brief The fork server start method: a clean server process that forks
 * workers on request, each owned by this process.
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 *
 * @code
 *   tubo_fork_server *server = NULL;
 *   tubo_command *cmd = NULL;
 *   tubo_process *worker = NULL;
 *   tubo_fork_server_new(&server, NULL);            // once
 *   tubo_command_new_self(&cmd, "square", NULL);
 *   tubo_command_channel(cmd, "in", reader, NULL);  // reader consumed
 *   tubo_fork_server_spawn(&worker, server, cmd, NULL);
 *   tubo_command_free(cmd);
 *   ...
 *   tubo_process_wait(worker, -1, NULL, NULL);
 * @endcode
 *
 * The server is this program re-executed into a built-in entry point (so
 * `main` must call `tubo_entry_run_if_requested` first, after registering its
 * entries, as for self workers). Each worker is forked by the server from
 * that clean, single-threaded image, as a child of this process
 * (`clone(CLONE_PARENT | CLONE_PIDFD)`), and its pidfd comes back over a Unix
 * socket: the `tubo_process` owns it as any other child. It runs the
 * command's entry point with its arguments and channels (contract 2), its
 * environment changes and working directory applied over the server's (a
 * copy of this process's when the server started), and its standard streams.
 * The server dies with this process; a server that died is noticed by the
 * next spawn and started again. The C++ twin is `tubo::ForkServer`
 * (`tubo/fork_server.h`), whose comments give the details.
 */
#ifndef TUBO_CAPI_TUBO_FORK_SERVER_H_
#define TUBO_CAPI_TUBO_FORK_SERVER_H_

#include "tubo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Start method: fork server                                                */
/* ------------------------------------------------------------------------ */

/**
 * @brief A fork server. Opaque. Unlike other handles, `tubo_fork_server_spawn`
 * may be called on one server from several threads at once.
 */
typedef struct tubo_fork_server tubo_fork_server;

/**
 * @brief Starts a fork server and returns once it is ready
 * (`tubo::ForkServer::Start`).
 *
 * @param out receives the server (caller frees it with `tubo_fork_server_free`).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_SPAWN` (the server could not start, or ended or
 *   stayed silent for 10 s before it was ready: the message says so and asks
 *   whether `main` calls `tubo_entry_run_if_requested` first),
 *   `TUBO_E_INVALID_ARGUMENT` (`out` is NULL), `TUBO_E_NO_MEMORY`.
 */
int tubo_fork_server_new(tubo_fork_server **out, tubo_error **err);

/**
 * @brief Starts `command`, made by `tubo_command_new_self`, as a worker forked
 * by `server` (`tubo::ForkServer::Spawn`), starting the server again first if
 * it died.
 *
 * The channels and stdio descriptors of `command` are closed in the parent
 * when this returns, success or failure; the builder itself stays the
 * caller's. Thread-safe on one server.
 *
 * @param out receives the process (caller frees it with `tubo_process_free`).
 * @param server the server (borrowed).
 * @param command the builder (borrowed).
 * @param err optional error output.
 * @return `TUBO_OK`; `TUBO_E_INVALID_ARGUMENT` (NULL, a command not made by
 *   `tubo_command_new_self`, a NUL byte where `tubo_command_spawn` refuses
 *   one); `TUBO_E_SPAWN` naming the entry, the stage and errno (an unknown
 *   entry, a bad channel name, `open stdout`, `chdir`, `clone` in the server,
 *   a server that cannot be started again, a server that died while handling
 *   this very request); `TUBO_E_CLOSED`.
 */
int tubo_fork_server_spawn(tubo_process **out, tubo_fork_server *server, tubo_command *command,
                           tubo_error **err);

/**
 * @brief The server process's id, or -1 if none runs (not started again
 * yet after it died) or `server` is NULL.
 *
 * @param server the server (borrowed).
 */
int tubo_fork_server_pid(const tubo_fork_server *server);

/**
 * @brief Ends the server (it is killed and reaped at once) and frees the
 * handle; NULL is accepted. Workers already started are not affected, and a
 * pool start method made with this server keeps it running until the last
 * pool that uses it is freed.
 *
 * @param server the server (consumed).
 */
void tubo_fork_server_free(tubo_fork_server *server);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_FORK_SERVER_H_ */
