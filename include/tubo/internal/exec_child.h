// Internal: the child of the exec and self start methods. It is created with
// clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) and no exit signal, runs in the
// parent's memory on its own small stack until it execs, and makes raw
// system calls only (TUBO_CHILD_CODE, tubo/internal/child.h). Everything it
// needs is prepared by the parent in a ChildPlan, so it allocates nothing
// and takes no lock; a failure is written back into the plan.
#ifndef TUBO_INTERNAL_EXEC_CHILD_H_
#define TUBO_INTERNAL_EXEC_CHILD_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <sys/types.h>

#include <string>
#include <vector>

namespace tubo {
namespace internal {

// Where the child failed, written by the child into the parent's memory
// (CLONE_VM) and read once the parent resumes (CLONE_VFORK).
enum class Stage : int {
  kNone = 0,
  kSignals,
  kOpenStdio,
  kDupStdio,
  kDupChannel,
  kChdir,
  kProcessGroup,
  kCloseRange,
  kExec,
};

struct StdioPlan {
  int fd = -1;                 // a descriptor to dup2 onto 0/1/2, or -1
  const char* path = nullptr;  // a file to open instead, or null
  int flags = 0;
};

// Everything the child needs, prepared by the parent so that the child
// allocates nothing and takes no lock.
struct ChildPlan {
  StdioPlan stdio[3];
  const int* channel_fds = nullptr;  // sources, all >= 3 + channel_count
  int channel_count = 0;
  const char* cwd = nullptr;
  bool die_with_parent = false;
  pid_t parent = 0;  // this process, for the parent-death check
  bool new_process_group = false;
  const char* const* candidates = nullptr;  // paths to try with execve, in order
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  // Written by the child on failure:
  Stage stage = Stage::kNone;
  int stage_index = 0;  // which stdio stream or channel
  int error = 0;
};

// The names of the standard streams 0, 1, 2, for messages.
inline constexpr const char* kStreamNames[3] = {"stdin", "stdout", "stderr"};

// Creates the child for `plan`, with every signal blocked in the calling
// thread until the child has reset its dispositions, and waits until it has
// exec'd or failed (CLONE_VFORK). Returns 0 with `*pid` and `*pidfd` set, or
// the errno of clone/mmap. A failure inside the child is in `plan->stage`.
int StartExecChild(ChildPlan* plan, pid_t* pid, int* pidfd);

// Names the stage a child failed at ("dup2 stdout", "chdir \"/x\"", ...).
std::string StageName(const ChildPlan& plan, const std::vector<std::string>& channel_names);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_EXEC_CHILD_H_
