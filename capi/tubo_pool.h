/**
 * @file
 * @brief The worker pool: byte tasks farmed out to worker processes
 * (contract 4), with exact blame when a worker dies; and the worker side.
 *
 * @code
 *   tubo_worker_start *start = NULL;
 *   tubo_pool *pool = NULL;
 *   tubo_task *task = NULL;
 *   tubo_bytes *result = NULL;
 *   tubo_worker_start_new_exec(&start, "./square_worker", NULL);
 *   tubo_pool_new(&pool, start, NULL, NULL);    // NULL options: the defaults
 *   tubo_worker_start_free(start);                // the pool keeps a copy
 *   tubo_pool_submit(&task, pool, "7", 1, -1, NULL);
 *   if (tubo_task_result(&result, task, NULL) == TUBO_OK) {   // "49"
 *     fwrite(result->data, 1, result->len, stdout);
 *     tubo_bytes_free(result);
 *   }
 *   tubo_task_free(task);
 *   tubo_pool_close(pool, NULL);                  // finish, join the workers
 *   tubo_pool_free(pool);
 * @endcode
 *
 * **Failure semantics** (those of the C++ `tubo::Pool`): a task the worker
 * reports as failed gives `TUBO_E_TASK_FAILED` with the worker's message; a
 * worker that dies (any exit, any signal) fails exactly the task it was
 * running with `TUBO_E_WORKER_DIED`, whose message names the task id, the
 * worker's pid and its exit status; the tasks queued behind it run
 * elsewhere, once, and the worker is replaced. A worker that dies before
 * it is ready blames no task; after `TUBO_POOL_MAX_START_FAILURES`
 * consecutive start failures the pool fails its pending tasks, and every
 * later submission, with `TUBO_E_SPAWN` saying why.
 *
 * **Thread-safety**: unlike the other handles of the C ABI, a `tubo_pool`
 * and a `tubo_task` may be used by several threads at once (submitting,
 * waiting, cancelling), except that their `_free` functions must be the
 * last call on them. A `tubo_worker_start` and a `tubo_pool_options` follow
 * the usual rule (one thread at a time).
 *
 * Part of the C ABI: programs include `tubo.h`, which includes this header;
 * the conventions in its file comment hold for every declaration here.
 * Since 1.2.
 */
#ifndef TUBO_CAPI_TUBO_POOL_H_
#define TUBO_CAPI_TUBO_POOL_H_

#include <stddef.h>
#include <stdint.h>

#include "tubo_common.h"
#include "tubo_fork_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief How a pool starts each of its workers (self, exec or fork). Opaque. */
typedef struct tubo_worker_start tubo_worker_start;
/** @brief A pool's options (see `tubo_pool_option`). Opaque. */
typedef struct tubo_pool_options tubo_pool_options;
/** @brief A pool of worker processes. Opaque. */
typedef struct tubo_pool tubo_pool;
/** @brief A submitted task (a future); valid after its pool is freed. Opaque. */
typedef struct tubo_task tubo_task;

/* ------------------------------------------------------------------------ */
/* How workers start                                                        */
/* ------------------------------------------------------------------------ */

/**
 * @brief The self start method: this program re-executed into the entry
 * point `entry` (see `tubo_entry_register`), which usually calls
 * `tubo_pool_serve`.
 *
 * Every worker gets the channels `tasks` (mode `r`) and `results` (mode
 * `w`) by contract 2, dies with this process and leads its own process
 * group (a task timeout stops whatever the worker started too).
 *
 * @param out receives the start method (caller frees it with `tubo_worker_start_free`).
 * @param entry the entry's name (copied).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL), `TUBO_E_NO_MEMORY`.
 *   An empty or unknown entry is found out by `tubo_pool_new` (empty) or
 *   when the worker starts (unknown: it exits 2 before it is ready).
 */
int tubo_worker_start_new_self(tubo_worker_start **out, const char *entry, tubo_error **err);

/**
 * @brief The exec start method: `program` (a path, or a name looked up in
 * `PATH`), any program that follows contract 4. Channels and supervision
 * as for `tubo_worker_start_new_self`.
 *
 * @param out receives the start method (caller frees it).
 * @param program the program (copied).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL), `TUBO_E_NO_MEMORY`.
 */
int tubo_worker_start_new_exec(tubo_worker_start **out, const char *program, tubo_error **err);

/**
 * @brief The function a forked pool worker runs (see `tubo_worker_start_new_fork`).
 *
 * `tasks` (a read end) and `results` (a write end) are the worker's
 * channels, borrowed: they are flushed and closed when the function
 * returns. `arg` is the pointer given to `tubo_worker_start_new_fork`. The
 * return value is the worker's exit code; `tubo_pool_serve_ends` is the
 * usual body.
 */
typedef int (*tubo_pool_fork_fn)(tubo_end *tasks, tubo_end *results, void *arg);

/**
 * @brief The fork start method: `fn(tasks, results, arg)` in a forked child.
 *
 * The pool forks from its supervisor thread, so the child is forked from a
 * process with several threads: use it only if no other thread can hold a
 * lock (malloc's included) that `fn` takes, or prefer the self start
 * method. Not for a process that must never fork (Go).
 *
 * @param out receives the start method (caller frees it).
 * @param fn the function (must not be NULL).
 * @param arg passed to `fn` in each child as is (borrowed; may be NULL).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL), `TUBO_E_NO_MEMORY`.
 */
int tubo_worker_start_new_fork(tubo_worker_start **out, tubo_pool_fork_fn fn, void *arg,
                               tubo_error **err);

/**
 * @brief The fork server start method: the entry point `entry`, as for
 * `tubo_worker_start_new_self`, in a worker forked by a fork server (see
 * `tubo_fork_server.h`): a worker, a replacement included, starts in a
 * fraction of a self worker's time. Channels and supervision as for
 * `tubo_worker_start_new_self`; arguments, environment, working directory
 * and stderr capture apply too.
 *
 * @param out receives the start method (caller frees it).
 * @param entry the entry's name (copied).
 * @param server the server to use (borrowed; shared: the start method and
 *   the pools made with it keep it running after `tubo_fork_server_free`),
 *   or NULL for a server of the pool's own, started with its first worker.
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL `out` or `entry`),
 *   `TUBO_E_NO_MEMORY`.
 */
int tubo_worker_start_new_fork_server(tubo_worker_start **out, const char *entry,
                                      tubo_fork_server *server, tubo_error **err);

/**
 * @brief Appends the argument `arg` (copied) for each worker (self, exec and fork server).
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL).
 */
int tubo_worker_start_arg(tubo_worker_start *s, const char *arg, tubo_error **err);

/**
 * @brief Sets `name=value` (copied) in each worker's environment (self, exec and fork server).
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL).
 */
int tubo_worker_start_env_set(tubo_worker_start *s, const char *name, const char *value,
                              tubo_error **err);

/**
 * @brief Runs each worker in the directory `dir` (copied) (self, exec and fork server).
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL).
 */
int tubo_worker_start_working_directory(tubo_worker_start *s, const char *dir, tubo_error **err);

/**
 * @brief With `capture` nonzero, captures each worker's standard error
 * (self, exec and fork server): the pool copies it to this process's standard error as
 * it arrives and keeps its last 4 KiB, quoted in the error of a worker that
 * died before it was ready. Off by default: workers inherit standard error.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL).
 */
int tubo_worker_start_capture_stderr(tubo_worker_start *s, int capture, tubo_error **err);

/** @brief Frees `s` (consumed). NULL is allowed. A pool made from it keeps its own copy. */
void tubo_worker_start_free(tubo_worker_start *s);

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * @brief The options of a pool, set with `tubo_pool_options_set`; values are
 * `int64_t`, durations in milliseconds. Each has the default of the C++
 * `tubo::PoolOptions` field of the same name.
 */
enum tubo_pool_option {
  /** Workers; 0 (the default): one per CPU this process may run on. At least 0. */
  TUBO_POOL_WORKERS = 1,
  /** Tasks submitted and not yet done, across the pool (the window); 0 (the
      default): `4 * workers * (1 + prefetch)`, with 15 for an automatic
      prefetch. At least 0. */
  TUBO_POOL_MAX_IN_FLIGHT = 2,
  /** Tasks sent to a worker beyond the one it runs (read ahead, started only
      after the previous result); -1 (the default): automatic, as many as fit
      in about a millisecond of the recent tasks' running time, 1 to 15. At
      least -1. */
  TUBO_POOL_PREFETCH = 3,
  /** Recycling: tasks sent to a worker before it is replaced; 0 (the default): no limit. */
  TUBO_POOL_MAX_TASKS_PER_WORKER = 4,
  /** Recycling: a worker whose resident memory is above this many bytes after
      a task is replaced; 0 (the default): no ceiling. */
  TUBO_POOL_MAX_WORKER_RSS_BYTES = 5,
  /** Times a task whose worker died is run again elsewhere before it fails; default 0. */
  TUBO_POOL_RETRIES = 6,
  /** Per-task timeout in milliseconds (positive), or -1 (the default): none.
      On expiry the worker's process group is killed, the task fails with
      `TUBO_E_TIMEOUT` and the worker is replaced. */
  TUBO_POOL_TASK_TIMEOUT_MS = 7,
  /** Consecutive start failures before the pool gives up; default 5. At least 1. */
  TUBO_POOL_MAX_START_FAILURES = 8,
  /** Delay before restarting after a start failure, doubled each time; default 10. At least 0. */
  TUBO_POOL_RESTART_DELAY_MS = 9,
  /** The longest delay between restarts; default 1000. At least the restart delay
      (checked by `tubo_pool_new`). */
  TUBO_POOL_MAX_RESTART_DELAY_MS = 10
};

/**
 * @brief New options with every default.
 * @param out receives the options (caller frees them with `tubo_pool_options_free`).
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL), `TUBO_E_NO_MEMORY`.
 */
int tubo_pool_options_new(tubo_pool_options **out, tubo_error **err);

/**
 * @brief Sets `option` (a `tubo_pool_option`) to `value`.
 * @return `TUBO_OK`, or `TUBO_E_INVALID_ARGUMENT` for NULL, an unknown
 *   option or a value out of the option's range (the message names the
 *   option and the value); the options are then unchanged.
 */
int tubo_pool_options_set(tubo_pool_options *o, int option, int64_t value, tubo_error **err);

/** @brief Frees `o` (consumed). NULL is allowed. */
void tubo_pool_options_free(tubo_pool_options *o);

/* ------------------------------------------------------------------------ */
/* The pool                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * @brief Starts a pool whose workers start as `start` says.
 *
 * Returns before the workers are ready; tasks submitted meanwhile wait for
 * them. A worker that cannot be started counts as a start failure.
 *
 * @param out receives the pool (caller frees it with `tubo_pool_free`).
 * @param start how workers start (borrowed: the pool copies it).
 * @param options the options (borrowed), or NULL for the defaults.
 * @param err optional error output.
 * @return `TUBO_OK`; `TUBO_E_INVALID_ARGUMENT` for NULL, an empty program or
 *   entry, or options that disagree (a restart delay above the longest);
 *   `TUBO_E_SYSTEM` if the pool's thread or descriptors cannot be created.
 */
int tubo_pool_new(tubo_pool **out, const tubo_worker_start *start, const tubo_pool_options *options,
                  tubo_error **err);

/**
 * @brief Submits a task: its `len` bytes at `data` (copied).
 *
 * Waits for room in the window (`TUBO_POOL_MAX_IN_FLIGHT`): `timeout_ms`
 * -1 waits forever, 0 only tries, a positive value waits that long.
 * Thread-safe.
 *
 * @param out receives the task (caller frees it with `tubo_task_free`).
 * @param pool the pool.
 * @param data the task's bytes (may be NULL when `len` is 0).
 * @param len the number of bytes.
 * @param timeout_ms -1, 0 or a positive number of milliseconds.
 * @param err optional error output.
 * @return `TUBO_OK`; `TUBO_E_TIMEOUT` if the window stayed full (nothing
 *   was submitted); `TUBO_E_CLOSED` after `tubo_pool_close` or
 *   `tubo_pool_terminate`; `TUBO_E_SPAWN` once the pool gave up starting
 *   workers; `TUBO_E_INVALID_ARGUMENT` (NULL, a timeout below -1).
 */
int tubo_pool_submit(tubo_task **out, tubo_pool *pool, const void *data, size_t len,
                     int64_t timeout_ms, tubo_error **err);

/**
 * @brief Submits up to `n` tasks in one call, without a handle each: their
 * outcomes come back, tagged, from `tubo_pool_take_done`. For bindings that
 * would otherwise cross into the library once per task and per step.
 *
 * Task `i` is the `lens[i]` bytes that follow task `i - 1`'s in `data`
 * (copied); its outcome carries `tags[i]`, any value the caller chooses
 * (tags need not be unique). The tasks are submitted in order, exactly as
 * `tubo_pool_submit` would submit them one by one: the first waits for
 * room in the window `timeout_ms` (-1 forever, 0 only tries), the others
 * only try; the batch stops at the first task that finds the window full
 * or fails, and `*submitted` says how many went in (a prefix). An error
 * after the first task went in is not reported by this call (the next one
 * reports it). Failure semantics are those of the tasks of
 * `tubo_pool_submit` (a worker that dies fails exactly its task). The
 * tasks stay in the pool until `tubo_pool_take_done` takes them (or
 * `tubo_pool_free`). Thread-safe. Since 1.2.
 *
 * @param pool the pool.
 * @param data the tasks' bytes, one after the other (may be NULL when they total 0 bytes).
 * @param lens the length of each task (may be NULL when `n` is 0).
 * @param tags the tag of each task (may be NULL when `n` is 0).
 * @param n the number of tasks.
 * @param timeout_ms -1, 0 or a positive number of milliseconds (for the first task).
 * @param submitted receives how many tasks were submitted, `0` to `n`
 *   (set to 0 first, whatever happens).
 * @param err optional error output.
 * @return `TUBO_OK` (with `*submitted` of 1 or more, or 0 when `n` is 0);
 *   `TUBO_E_TIMEOUT` if the window stayed full for the first task (nothing
 *   was submitted); for the first task, the errors of `tubo_pool_submit`
 *   (`TUBO_E_CLOSED`, `TUBO_E_SPAWN`); `TUBO_E_INVALID_ARGUMENT` (NULL
 *   `pool` or `submitted`, NULL `lens`, `tags` or `data` that are needed, a
 *   timeout below -1).
 */
int tubo_pool_submit_tagged(tubo_pool *pool, const void *data, const size_t *lens,
                            const uint64_t *tags, size_t n, int64_t timeout_ms, size_t *submitted,
                            tubo_error **err);

/**
 * @brief Takes the outcomes of every task of `tubo_pool_submit_tagged`
 * that is done, in one buffer; does not wait (wait on
 * `tubo_pool_notify_fd`).
 *
 * `*out` holds `*count` records, each the task's tag (`uint64_t`), its
 * outcome code (`int32_t`: `TUBO_OK`, or the code `tubo_task_result` would
 * give: `TUBO_E_TASK_FAILED`, `TUBO_E_WORKER_DIED`, `TUBO_E_TIMEOUT`,
 * `TUBO_E_CANCELLED`, `TUBO_E_SPAWN`), a length (`uint64_t`), then that
 * many bytes: the result, or the error's message (UTF-8). The three
 * numbers are in this machine's byte order, packed with no padding (20
 * bytes), and the records follow each other with no gap. Records come in
 * the order the tasks were submitted. A task taken is forgotten: it is
 * never given again. Thread-safe. Since 1.2.
 *
 * @param pool the pool.
 * @param out receives the records (caller frees them with
 *   `tubo_bytes_free`), or NULL when no task was done.
 * @param count receives the number of records.
 * @param pending optional: receives the number of tagged tasks not done yet.
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL `pool`, `out` or `count`).
 */
int tubo_pool_take_done(tubo_pool *pool, tubo_bytes **out, size_t *count, size_t *pending,
                        tubo_error **err);

/**
 * @brief No more tasks: waits until every task submitted is done, lets the
 * workers exit (end of stream on `tasks`), reaps them and stops the pool's
 * thread. Later submissions fail with `TUBO_E_CLOSED`. Calling it again, or
 * after `tubo_pool_terminate`, returns at once.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL).
 */
int tubo_pool_close(tubo_pool *pool, tubo_error **err);

/**
 * @brief Stops now: tasks not done fail with `TUBO_E_CANCELLED`, every
 * worker and its process group gets SIGKILL and is reaped. Calling it again
 * returns at once. NULL is allowed.
 */
void tubo_pool_terminate(tubo_pool *pool);

/**
 * @brief Frees `pool` (consumed): terminates it if it was not closed (see
 * `tubo_pool_terminate`; call `tubo_pool_close` first to finish the work).
 * Its tasks stay valid. NULL is allowed.
 */
void tubo_pool_free(tubo_pool *pool);

/** @brief The number of workers the pool keeps running (0 resolved); 0 for NULL. */
int tubo_pool_workers(const tubo_pool *pool);

/**
 * @brief The pids of the workers running now (ready or starting).
 *
 * Fills `pids` with the first `min(count, capacity)` of them (`pids` may be
 * NULL when `capacity` is 0) and returns `count`. 0 for NULL.
 */
size_t tubo_pool_worker_pids(const tubo_pool *pool, int *pids, size_t capacity);

/**
 * @brief A descriptor that becomes readable each time a task of the pool is
 * done, for event loops and bindings that must not block a thread in
 * `tubo_task_wait` (Go).
 *
 * An eventfd (non-blocking, close-on-exec), owned by the pool and closed by
 * `tubo_pool_free`: read its 8 bytes to make it unreadable again, then look
 * at the tasks (`tubo_task_done`); a task done after the read makes it
 * readable again. Tasks done before the read are not told apart: check
 * every task waited for. -1 for NULL. Since 1.2.
 */
int tubo_pool_notify_fd(const tubo_pool *pool);

/* ------------------------------------------------------------------------ */
/* Tasks                                                                    */
/* ------------------------------------------------------------------------ */

/** @brief The task's id within its pool (never 0); 0 for NULL. */
uint64_t tubo_task_id(const tubo_task *task);

/** @brief 1 once the task has its final outcome (a result or an error), else 0 (and for NULL). */
int tubo_task_done(const tubo_task *task);

/**
 * @brief Waits until the task is done or `timeout_ms` passes (-1: forever,
 * 0: only looks). Returns 1 if it is done, 0 if not yet (and for NULL).
 */
int tubo_task_wait(const tubo_task *task, int64_t timeout_ms);

/**
 * @brief Waits until the task is done and gives its outcome; every call
 * gives the same one.
 *
 * @param out receives the result's bytes (caller frees them with
 *   `tubo_bytes_free`), on success only.
 * @param task the task.
 * @param err optional error output.
 * @return `TUBO_OK`, or the task's error: `TUBO_E_TASK_FAILED` (the
 *   worker's message), `TUBO_E_WORKER_DIED` (the message names the task,
 *   the worker's pid and its exit status or signal), `TUBO_E_TIMEOUT` (the
 *   task's timeout), `TUBO_E_CANCELLED` (`tubo_task_cancel`,
 *   `tubo_pool_terminate`, `tubo_pool_free`), `TUBO_E_SPAWN` (the pool could
 *   not keep workers running); `TUBO_E_INVALID_ARGUMENT` (NULL).
 */
int tubo_task_result(tubo_bytes **out, const tubo_task *task, tubo_error **err);

/**
 * @brief Cancels the task if no worker was sent it yet: it then fails with
 * `TUBO_E_CANCELLED` and this returns 1. Returns 0 if it was already sent
 * (it will run) or is done, and for NULL.
 */
int tubo_task_cancel(tubo_task *task);

/** @brief Frees the handle `task` (consumed): the task itself still runs. NULL is allowed. */
void tubo_task_free(tubo_task *task);

/**
 * @brief A descriptor readable once the task is done, for event loops
 * (`poll`, `epoll`, a language runtime's poller).
 *
 * An eventfd (close-on-exec) that belongs to the task: never read it or
 * close it. It stays readable once the task is done, and stays open while
 * any handle of the task, a wait set watching it, or its pool holds the
 * task (copies of a handle made by the library share it). Created by the
 * first call; the same one afterwards. C++: `Task::fd`.
 *
 * @param out receives the descriptor, on success only.
 * @param task the task.
 * @param err optional error output.
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL), `TUBO_E_SYSTEM`
 *   (`eventfd`: out of descriptors). Since 1.2.
 */
int tubo_task_fd(int *out, const tubo_task *task, tubo_error **err);

/**
 * @brief Watches the pool task `task` in `set` under `key`: ready once the
 * task is done, and for good after that, beside the ends and processes of
 * the set (`tubo_wait_set_wait`). The set keeps the task alive (not its
 * pool): `task` may be freed meanwhile.
 *
 * @return `TUBO_OK`, `TUBO_E_INVALID_ARGUMENT` (NULL, key in use, the task
 *   already watched by the set), `TUBO_E_SYSTEM` (as `tubo_task_fd`). Since 1.2.
 */
int tubo_wait_set_add_task(tubo_wait_set *set, const tubo_task *task, uint64_t key,
                           tubo_error **err);

/* ------------------------------------------------------------------------ */
/* The worker side                                                          */
/* ------------------------------------------------------------------------ */

/**
 * @brief What a pool worker does with one task (see `tubo_pool_serve`).
 *
 * `task` holds the task's `len` bytes (borrowed, valid during the call).
 * Return 0 after setting `*result` to the result (a `tubo_bytes` from
 * `tubo_bytes_new`, which the library frees; NULL means an empty result),
 * or nonzero to fail the task, after setting `*message` to a `malloc`'d
 * UTF-8 message the library frees (NULL: a message saying the function
 * returned that value).
 */
typedef int (*tubo_pool_task_fn)(void *arg, const void *task, size_t len, tubo_bytes **result,
                                 char **message);

/**
 * @brief Serves a pool's tasks with `fn`: takes the channels `tasks` and
 * `results` (contract 2, see `tubo_channel_take_read`), sends the ready
 * frame, then runs `fn(arg, ...)` on each task and sends its result before
 * reading the next, until end of stream on `tasks`.
 *
 * Meant as the whole body of a worker's entry point or `main`.
 *
 * @return the worker's exit code: 0 after end of stream, 1 after an error
 *   (a missing channel, a send or receive error, a frame that is not a
 *   task; printed on standard error, naming it), 2 for a NULL `fn`.
 */
int tubo_pool_serve(tubo_pool_task_fn fn, void *arg);

/**
 * @brief `tubo_pool_serve` over the given ends (borrowed) instead of the
 * channels: `tasks` a read end, `results` a write end; the body of a
 * `tubo_pool_fork_fn`. Same exit codes (2 also for NULL or wrong-kind
 * ends). Since 1.2.
 */
int tubo_pool_serve_ends(tubo_end *tasks, tubo_end *results, tubo_pool_task_fn fn, void *arg);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUBO_CAPI_TUBO_POOL_H_ */
