// Cross-language pool matrix, pool "C++": drives a pool worker through
// tubo::Pool.
//
// CLI:  cpp_pool_parent [--] <worker argv...>
//   Starts a tubo::Pool of 2 workers with the exec start method of the worker
//   program, submits the matrix's 50 tasks (the task convention and the
//   expected outcomes are in pool_matrix_test.py's file comment), checks every
//   outcome in submission order, closes the pool and checks that this process
//   has no child left. Prints one summary line ("cpp_pool_parent: OK ..." or
//   "cpp_pool_parent: FAIL ..."); exits 0 on success, 1 on failure. Gives up
//   after 30 s.
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tubo/tubo.h"

namespace {

constexpr int kTasks = 50;
constexpr int kKill = 25;
constexpr int kFail = 33;
const size_t kSizes[] = {0, 1, 7, 100, 4096, 65535, 65536, 65537, 102400};

// The bytes task `i` asks the worker to echo (and its expected result).
std::string Payload(int i) {
  const size_t size = kSizes[i % (sizeof(kSizes) / sizeof(kSizes[0]))];
  std::string p(size, '\0');
  for (size_t j = 0; j < size; ++j) p[j] = static_cast<char>((j * 31 + i * 7) & 0xff);
  return p;
}

std::string TaskBytes(int i) {
  if (i == kKill) return "kill " + std::to_string(i);
  if (i == kFail) return "fail task " + std::to_string(i) + " fails on purpose";
  return "echo " + Payload(i);
}

// The children of this process, from every thread's /proc/self/task/*/children.
std::string Children() {
  std::string all;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return "cannot open /proc/self/task";
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/children");
    std::string pids;
    std::getline(f, pids);
    all += pids;
  }
  ::closedir(dir);
  return all;
}

int Fail(const std::string& why) {
  std::printf("cpp_pool_parent: FAIL %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    std::fprintf(stderr, "usage: cpp_pool_parent [--] <worker argv...>\n");
    return 2;
  }
  ::alarm(30);  // a hang is a failure: SIGALRM ends the driver
  tubo::WorkerStart start = tubo::WorkerStart::Exec(argv[first]);
  for (int i = first + 1; i < argc; ++i) start.Arg(argv[i]);
  tubo::PoolOptions options;
  options.workers = 2;
  absl::StatusOr<std::unique_ptr<tubo::Pool>> pool = tubo::Pool::Create(start, options);
  if (!pool.ok()) return Fail("Pool::Create: " + pool.status().ToString());

  std::vector<tubo::Task> tasks;
  for (int i = 0; i < kTasks; ++i) {
    absl::StatusOr<tubo::Task> task = (*pool)->Submit(TaskBytes(i));
    if (!task.ok())
      return Fail("submit task " + std::to_string(i) + ": " + task.status().ToString());
    tasks.push_back(*task);
  }
  for (int i = 0; i < kTasks; ++i) {
    absl::StatusOr<tubo::Bytes> result = tasks[i].Result();
    const std::string id = std::to_string(tasks[i].id());
    const std::string what = "task " + std::to_string(i) + " (id " + id + ")";
    if (i == kKill) {
      if (result.ok()) return Fail(what + " (kill) succeeded");
      const std::string message(result.status().message());
      if (tubo::ErrorOf(result.status()) != tubo::Error::kWorkerDied ||
          message.rfind("task " + id + ":", 0) != 0 || message.find("died") == std::string::npos)
        return Fail(what + " (kill): want worker_died naming the task, got " +
                    result.status().ToString());
    } else if (i == kFail) {
      const std::string want = "task " + std::to_string(i) + " fails on purpose";
      if (result.ok()) return Fail(what + " (fail) succeeded");
      if (tubo::ErrorOf(result.status()) != tubo::Error::kTaskFailed ||
          std::string(result.status().message()).find(want) == std::string::npos)
        return Fail(what + " (fail): want task_failed with \"" + want + "\", got " +
                    result.status().ToString());
    } else {
      if (!result.ok()) return Fail(what + ": " + result.status().ToString());
      if (result->view() != Payload(i))
        return Fail(what + ": wrong result of " + std::to_string(result->size()) + " bytes (want " +
                    std::to_string(Payload(i).size()) + ")");
    }
  }
  absl::Status closed = (*pool)->Close();
  if (!closed.ok()) return Fail("Close: " + closed.ToString());
  pool->reset();
  const std::string children = Children();
  if (!children.empty()) return Fail("children left after Close: " + children);
  std::printf(
      "cpp_pool_parent: OK %d tasks: %d results, task %d worker_died, task %d task_failed; closed, "
      "no child left\n",
      kTasks, kTasks - 2, kKill, kFail);
  return 0;
}
