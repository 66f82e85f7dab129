// The pool tests' workers (see workers.h) and their self entry points.
#include "tests/pool/workers.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tubo/entry.h"
#include "tubo/pool_worker.h"

extern char** environ;

namespace pool_test {

absl::StatusOr<std::string> RunTask(std::string_view task) {
  if (const char* log = std::getenv("POOL_TEST_LOG")) {
    int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      std::string line = std::string(task) + "\n";
      (void)!::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }
  const size_t space = task.find(' ');
  const std::string_view op = task.substr(0, space);
  const std::string arg(space == std::string_view::npos ? "" : task.substr(space + 1));
  int n = 0;
  if (op == "echo") return arg;
  if (op == "fail") return absl::InvalidArgumentError(arg);
  if (op == "kill") {
    ::kill(::getpid(), SIGKILL);
    ::pause();
  }
  if (op == "sleep" && absl::SimpleAtoi(arg, &n)) {
    absl::SleepFor(absl::Milliseconds(n));
    return std::string("slept");
  }
  if (op == "pid") return absl::StrCat(::getpid());
  if (op == "alloc" && absl::SimpleAtoi(arg, &n)) {
    const size_t size = static_cast<size_t>(n) << 20;
    char* block = static_cast<char*>(std::malloc(size));
    if (block == nullptr) return absl::ResourceExhaustedError("malloc");
    std::memset(block, 1, size);
    // Kept on purpose (the worker's RSS grows), and reachable, so that no
    // compiler drops the allocation as dead (clang does, at any -O).
    static std::vector<char*>* kept = new std::vector<char*>();
    kept->push_back(block);
    return std::string(block[size - 1] == 1 ? "ok" : "not ok");
  }
  if (op == "grandchild" && absl::SimpleAtoi(arg, &n)) {
    std::string seconds = absl::StrCat(n / 1000.0);
    char* argv[] = {const_cast<char*>("sleep"), seconds.data(), nullptr};
    pid_t pid = 0;
    if (::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) != 0) {
      return absl::InternalError("posix_spawnp sleep");
    }
    // The pid goes out first (as a file the test reads), then the task runs on.
    if (const char* file = std::getenv("POOL_TEST_GRANDCHILD")) {
      std::ofstream(file) << pid;
    }
    absl::SleepFor(absl::Milliseconds(n));
    return absl::StrCat(pid);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown task \"", std::string(task), "\""));
}

int ForkWorker(tubo::ReadEnd tasks, tubo::WriteEnd results) {
  return tubo::ServePoolTasks(tasks, results, RunTask).ok() ? 0 : 1;
}

std::map<std::string, int> ExecutionCounts(const std::string& path) {
  std::map<std::string, int> counts;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) ++counts[line];
  return counts;
}

int OpenFdCount() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* e = ::readdir(dir)) count += e->d_name[0] != '.';
  ::closedir(dir);
  return count - 1;  // the directory's own descriptor
}

std::set<pid_t> Children() {
  std::set<pid_t> children;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return children;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(absl::StrCat("/proc/self/task/", e->d_name, "/children"));
    for (pid_t pid; in >> pid;) children.insert(pid);
  }
  ::closedir(dir);
  return children;
}

bool Alive(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

}  // namespace pool_test

// The self start method's worker.
TUBO_ENTRY(pool_worker) { return tubo::ServePoolTasks(pool_test::RunTask); }

// A worker that dies before its ready frame the first time (it creates the
// file named by its argument), and serves normally afterwards.
TUBO_ENTRY(pool_flaky_start) {
  if (!args.empty() && ::access(args[0].c_str(), F_OK) != 0) {
    std::ofstream(args[0]) << "started once";
    return 7;
  }
  return tubo::ServePoolTasks(pool_test::RunTask);
}
