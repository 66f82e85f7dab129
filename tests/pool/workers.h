// The pool tests' workers: one task language served by every start method
// (self entries, the exec binary pool_test_worker, fork), and what the tests
// share to count things.
//
// A task is "<op> <arg>":
//   echo X          returns X
//   fail MSG        fails with MSG
//   kill X          the worker SIGKILLs itself (X only makes tasks distinct)
//   sleep MS        sleeps MS milliseconds, returns "slept"
//   pid X           returns the worker's pid
//   alloc MB        allocates and touches MB MiB (kept), returns "ok"
//   grandchild MS   starts `sleep` for MS ms in the worker's process group,
//                   returns its pid, then sleeps MS ms
// Before running, the worker appends "<task>\n" to the file named by
// POOL_TEST_LOG when it is set (O_APPEND, one write), so tests count
// executions.
#ifndef TESTS_POOL_WORKERS_H_
#define TESTS_POOL_WORKERS_H_

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tubo/end.h"

namespace pool_test {

// Runs one task of the language above (in the worker).
absl::StatusOr<std::string> RunTask(std::string_view task);

// The fork start method's function: serves RunTask.
int ForkWorker(tubo::ReadEnd tasks, tubo::WriteEnd results);

// How many times each task line appears in the log file `path`.
std::map<std::string, int> ExecutionCounts(const std::string& path);

// The descriptors open in this process (/proc/self/fd).
int OpenFdCount();
// The children of this process (every thread's /proc/self/task/*/children).
std::set<pid_t> Children();
// True if `pid` names a live (not zombie) process.
bool Alive(pid_t pid);

}  // namespace pool_test

#endif  // TESTS_POOL_WORKERS_H_
