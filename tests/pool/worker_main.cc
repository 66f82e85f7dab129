// pool_test_worker: the pool tests' worker as a program of its own, for the
// exec start method (the task language of workers.h).
#include "tests/pool/workers.h"
#include "tubo/pool_worker.h"

int main() { return tubo::ServePoolTasks(pool_test::RunTask); }
