/* capi_pool_worker: a pool worker written in C with tubo_pool_serve, for the
 * exec start method (the task language of pool_tasks.h). */
#include "pool_tasks.h"
#include "tubo.h"

int main(void) { return tubo_pool_serve(pool_run_task, NULL); }
