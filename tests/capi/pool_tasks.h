/* The C pool tests' task language, served by C workers through
 * tubo_pool_serve (the same language as tests/pool/workers.h, in C):
 *   echo X     returns X
 *   fail MSG   fails with MSG
 *   kill X     the worker SIGKILLs itself (X only makes tasks distinct)
 *   sleep MS   sleeps MS milliseconds, returns "slept"
 *   pid X      returns the worker's pid
 *   alloc MB   allocates and touches MB MiB (kept), returns "ok"
 * Before running, the worker appends "<task>\n" to the file named by
 * POOL_TEST_LOG when it is set (O_APPEND, one write), so tests count
 * executions. */
#ifndef TESTS_CAPI_POOL_TASKS_H_
#define TESTS_CAPI_POOL_TASKS_H_

#include <stddef.h>

#include "tubo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tubo_pool_task_fn running one task of the language above; `arg` unused. */
int pool_run_task(void *arg, const void *task, size_t len, tubo_bytes **result, char **message);

/* A tubo_pool_fork_fn serving pool_run_task over the forked worker's ends. */
int pool_fork_worker(tubo_end *tasks, tubo_end *results, void *arg);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESTS_CAPI_POOL_TASKS_H_ */
