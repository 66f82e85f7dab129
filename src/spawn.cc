// The exec and self start methods: Command, started with
// clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) and execve.
#include "tubo/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tubo/channel.h"
#include "tubo/entry.h"
#include "tubo/error.h"
#include "tubo/internal/child.h"
#include "tubo/internal/entry_registry.h"
#include "tubo/internal/fork.h"

extern char** environ;

namespace tubo {
namespace {

constexpr size_t kChildStackSize = 64 * 1024;

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

// The child runs in the parent's memory (CLONE_VM) until it execs, on its
// own small stack, while the parent waits (CLONE_VFORK). So it makes raw
// system calls only, never libc functions that a sanitizer intercepts: those
// keep their books in memory the child shares with the parent (TSan's sigaction
// records handlers there, its clone and close interceptors update its thread
// and descriptor state), and the child's calls would corrupt the parent's.
// For the same reason the child's code is not instrumented by sanitizers.
// TUBO_CHILD_CODE (tubo/internal/child.h) marks it.

// ThreadSanitizer intercepts clone() to model fork-like children; with
// CLONE_VM the child's half of that model runs on the parent's thread state
// and the parent then fails a CHECK. The child here runs no instrumented code,
// so under TSan the call goes to glibc's implementation (exported as __clone,
// of which clone is a weak alias) directly.
#if defined(__SANITIZE_THREAD__)
#define TUBO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TUBO_TSAN 1
#endif
#endif
#ifdef TUBO_TSAN
extern "C" int __clone(int (*fn)(void*), void* stack, int flags, void* arg, ...);
#define TUBO_CLONE __clone
#else
#define TUBO_CLONE ::clone
#endif

[[noreturn]] TUBO_CHILD_CODE void ChildFail(ChildPlan* plan, Stage stage, int index, int error) {
  plan->stage = stage;
  plan->stage_index = index;
  plan->error = error;
  for (;;) ::syscall(SYS_exit_group, 127);
}

TUBO_CHILD_CODE int ChildMain(void* arg) {
  ChildPlan* plan = static_cast<ChildPlan*>(arg);
  // Default dispositions for every signal that has a handler or is ignored
  // (execve keeps ignored ones ignored), then an empty mask.
  if (int err = internal::ResetSignals(/*keep_libc_handlers=*/false)) {
    ChildFail(plan, Stage::kSignals, 0, err);
  }
  if (plan->die_with_parent) {
    ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // A parent that died before the line above sends nothing: leave as if
    // it had (the parent is gone, so nobody reads the stage).
    if (::syscall(SYS_getppid) != plan->parent) ::syscall(SYS_kill, ::syscall(SYS_getpid), SIGKILL);
  }
  if (plan->new_process_group && ::syscall(SYS_setpgid, 0, 0) != 0) {
    ChildFail(plan, Stage::kProcessGroup, 0, errno);
  }
  for (int i = 0; i < 3; ++i) {
    const StdioPlan& s = plan->stdio[i];
    int fd = s.fd;
    if (s.path != nullptr) {
      fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, s.path, s.flags | O_CLOEXEC, 0666));
      if (fd < 0) ChildFail(plan, Stage::kOpenStdio, i, errno);
    }
    if (fd < 0) continue;
    if (fd == i) {
      // Opened onto the very number (the parent had it closed): keep it, but
      // without close-on-exec, or the program would start without it.
      if (::syscall(SYS_fcntl, fd, F_SETFD, 0) != 0) ChildFail(plan, Stage::kDupStdio, i, errno);
      continue;
    }
    if (::syscall(SYS_dup3, fd, i, 0) < 0) ChildFail(plan, Stage::kDupStdio, i, errno);
    if (s.path != nullptr) ::syscall(SYS_close, fd);
  }
  for (int j = 0; j < plan->channel_count; ++j) {
    // Sources are all above the targets, so no dup3 clobbers a later source;
    // the target is left without close-on-exec.
    if (::syscall(SYS_dup3, plan->channel_fds[j], 3 + j, 0) < 0) {
      ChildFail(plan, Stage::kDupChannel, j, errno);
    }
  }
  if (plan->cwd != nullptr && ::syscall(SYS_chdir, plan->cwd) != 0) {
    ChildFail(plan, Stage::kChdir, 0, errno);
  }
  if (int err = internal::CloseRange(3 + plan->channel_count, ~0U)) {
    ChildFail(plan, Stage::kCloseRange, 0, err);
  }
  // Like execvp: remember EACCES, go on after ENOENT/ENOTDIR, stop otherwise.
  int err = ENOENT;
  bool denied = false;
  for (const char* const* c = plan->candidates; *c != nullptr; ++c) {
    ::syscall(SYS_execve, *c, plan->argv, plan->envp);
    err = errno;
    if (err == EACCES) {
      denied = true;
    } else if (err != ENOENT && err != ENOTDIR) {
      break;
    }
  }
  if (denied && (err == ENOENT || err == ENOTDIR)) err = EACCES;
  ChildFail(plan, Stage::kExec, 0, err);
}

const char* const kStreamNames[3] = {"stdin", "stdout", "stderr"};

std::string StageName(const ChildPlan& plan, const std::vector<std::string>& channel_names) {
  switch (plan.stage) {
    case Stage::kSignals: return "reset signals";
    case Stage::kOpenStdio: return absl::StrCat("open ", kStreamNames[plan.stage_index], " \"",
                                                plan.stdio[plan.stage_index].path, "\"");
    case Stage::kDupStdio: return absl::StrCat("dup2 ", kStreamNames[plan.stage_index]);
    case Stage::kDupChannel:
      return absl::StrCat("dup2 channel \"", channel_names[plan.stage_index], "\"");
    case Stage::kChdir: return absl::StrCat("chdir \"", plan.cwd, "\"");
    case Stage::kProcessGroup: return "setpgid";
    case Stage::kCloseRange: return "close inherited descriptors";
    case Stage::kExec: return "exec";
    case Stage::kNone: break;
  }
  return "start";
}

// A string vector in the char* const[] form execve wants (null-terminated).
class CStrings {
 public:
  void Add(const std::string& s) { ptrs_.push_back(const_cast<char*>(s.c_str())); }
  char* const* Terminated() {
    ptrs_.push_back(nullptr);
    return ptrs_.data();
  }

 private:
  std::vector<char*> ptrs_;
};

// The child's environment: the parent's (unless cleared) with the changes
// applied in order, TUBO_CHANNELS set to `channels` (or removed if empty).
std::vector<std::string> BuildEnv(
    bool clear, const std::vector<std::pair<std::string, std::optional<std::string>>>& changes,
    const std::string& channels) {
  std::vector<std::string> env;
  if (!clear) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  }
  auto set = [&env](const std::string& name, const std::optional<std::string>& value) {
    const std::string prefix = name + "=";
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&](const std::string& e) { return absl::StartsWith(e, prefix); }),
              env.end());
    if (value) env.push_back(prefix + *value);
  };
  for (const auto& [name, value] : changes) set(name, value);
  set(kChannelsEnvVar, channels.empty() ? std::nullopt : std::optional<std::string>(channels));
  return env;
}

// The path the self start method executes. Normally /proc/self/exe itself:
// it names the running binary even if its file was since replaced or
// removed. An emulator such as valgrind virtualises /proc/self/exe for
// readlink but not for execve, where it names the emulator's own binary: it
// shows as readlink naming a file other than the one /proc/self/exe opens.
// Then the path readlink gives is used. Decided once.
const std::string& SelfExecutable() {
  static const std::string* const path = [] {
    auto* self = new std::string("/proc/self/exe");
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0 || n >= static_cast<ssize_t>(sizeof(buf)) - 1) return self;
    const std::string link(buf, static_cast<size_t>(n));
    struct stat named, running;
    if (::stat(link.c_str(), &named) != 0 || ::stat("/proc/self/exe", &running) != 0) return self;
    if (named.st_dev != running.st_dev || named.st_ino != running.st_ino) *self = link;
    return self;
  }();
  return *path;
}

std::string FindEnv(const std::vector<std::string>& env, const std::string& name) {
  const std::string prefix = name + "=";
  for (const std::string& e : env) {
    if (absl::StartsWith(e, prefix)) return e.substr(prefix.size());
  }
  return "";
}

// An InvalidArgument error if `value` holds a NUL byte: the kernel would
// read the string only up to it, so "/bin/echo\0/../false" would run /bin/echo.
absl::Status CheckNoNul(const std::string& value, absl::string_view field) {
  if (value.find('\0') == std::string::npos) return absl::OkStatus();
  return WithError(absl::InvalidArgumentError(absl::StrCat(field, " contains a NUL byte")),
                   Error::kInvalidArgument);
}

// The thread that creates children for Spawn calls made on any thread other
// than the main one, when the child must die with its parent: the kernel's
// parent-death signal follows the *thread* that created the child, and this
// one lives as long as the process. All signals stay blocked in it, as the
// clone below needs. Created on first use; never exits.
class SpawnerThread {
 public:
  // Runs `job` on the thread and returns once it ran; false (with errno-like
  // `*err`) if the thread cannot be created.
  static bool Run(const std::function<void()>& job, int* err) {
    static SpawnerThread* const spawner = new SpawnerThread();
    return spawner->Submit(job, err);
  }

 private:
  bool Submit(const std::function<void()>& job, int* err) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!started_) {
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);  // inherited by the new thread
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      pthread_t thread;
      const int e = ::pthread_create(&thread, &attr, &SpawnerThread::Loop, this);
      pthread_attr_destroy(&attr);
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      if (e != 0) {
        *err = e;
        return false;
      }
      started_ = true;
    }
    // One job at a time: the next caller waits for the slot.
    idle_.wait(lock, [this] { return job_ == nullptr; });
    job_ = &job;
    const uint64_t ticket = ++submitted_;
    work_.notify_all();
    done_.wait(lock, [this, ticket] { return finished_ >= ticket; });
    return true;
  }

  static void* Loop(void* self) {
    static_cast<SpawnerThread*>(self)->Serve();
    return nullptr;
  }

  void Serve() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_.wait(lock, [this] { return job_ != nullptr; });
      const std::function<void()>* job = job_;
      lock.unlock();
      (*job)();
      lock.lock();
      job_ = nullptr;
      ++finished_;
      done_.notify_all();
      idle_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable work_, done_, idle_;
  const std::function<void()>* job_ = nullptr;
  uint64_t submitted_ = 0;
  uint64_t finished_ = 0;
  bool started_ = false;
};

}  // namespace

Stdio Stdio::Path(std::string path) {
  Stdio s(Kind::kFile);
  s.path_ = std::move(path);
  return s;
}

Stdio Stdio::Fd(OwnedFd fd) {
  Stdio s(Kind::kFd);
  if (!fd.valid()) {
    s.error_ = absl::InvalidArgumentError("stdio: the OwnedFd is empty");
  }
  s.fd_ = std::move(fd);
  return s;
}

Stdio Stdio::FromRelease(absl::StatusOr<OwnedFd> fd) {
  if (fd.ok()) return Fd(std::move(*fd));
  Stdio s(Kind::kFd);
  s.error_ = fd.status();  // reported by Spawn, which owns the failure
  return s;
}

Stdio Stdio::End(ReadEnd end) { return FromRelease(end.Release()); }
Stdio Stdio::End(WriteEnd end) { return FromRelease(end.Release()); }
Stdio Stdio::End(DuplexEnd end) { return FromRelease(end.Release()); }

Command::Command(std::string program) : program_(std::move(program)) {}

Command Command::Self(std::string entry) {
  Command c("/proc/self/exe");
  c.entry_ = std::move(entry);
  c.argv0_ = program_invocation_name;
  return c;
}

Command& Command::Arg(std::string arg) {
  args_.push_back(std::move(arg));
  return *this;
}

Command& Command::Args(std::vector<std::string> args) {
  for (std::string& a : args) args_.push_back(std::move(a));
  return *this;
}

Command& Command::Argv0(std::string argv0) {
  argv0_ = std::move(argv0);
  return *this;
}

Command& Command::SearchPath(bool search) {
  search_path_ = search;
  return *this;
}

Command& Command::ClearEnv() {
  clear_env_ = true;
  env_changes_.clear();
  return *this;
}

Command& Command::SetEnv(std::string name, std::string value) {
  env_changes_.emplace_back(std::move(name), std::move(value));
  return *this;
}

Command& Command::UnsetEnv(std::string name) {
  env_changes_.emplace_back(std::move(name), std::nullopt);
  return *this;
}

Command& Command::WorkingDirectory(std::string dir) {
  cwd_ = std::move(dir);
  return *this;
}

Command& Command::DieWithParent(bool die) {
  die_with_parent_ = die;
  return *this;
}

Command& Command::NewProcessGroup(bool lead) {
  new_process_group_ = lead;
  return *this;
}

Command& Command::Stdin(Stdio stdio) {
  stdio_[0] = std::move(stdio);
  return *this;
}

Command& Command::Stdout(Stdio stdio) {
  stdio_[1] = std::move(stdio);
  return *this;
}

Command& Command::Stderr(Stdio stdio) {
  stdio_[2] = std::move(stdio);
  return *this;
}

Command& Command::AddChannel(std::string name, const char* mode, absl::StatusOr<OwnedFd> fd) {
  if (!fd.ok()) {
    error_.Update(absl::Status(fd.status().code(),
                               absl::StrCat("channel \"", name, "\": ", fd.status().message())));
    return *this;
  }
  channels_.push_back(ChannelEnd{std::move(name), mode, std::move(*fd)});
  return *this;
}

Command& Command::Channel(std::string name, ReadEnd end) {
  return AddChannel(std::move(name), "r", end.Release());
}

Command& Command::Channel(std::string name, WriteEnd end) {
  return AddChannel(std::move(name), "w", end.Release());
}

Command& Command::Channel(std::string name, DuplexEnd end) {
  return AddChannel(std::move(name), "rw", end.Release());
}

absl::StatusOr<Process> Command::Spawn() {
  // Whatever happens, the ends handed to this command are closed on return.
  std::vector<ChannelEnd> channels = std::move(channels_);
  channels_.clear();
  Stdio stdio[3] = {std::move(stdio_[0]), std::move(stdio_[1]), std::move(stdio_[2])};
  for (Stdio& s : stdio_) s = Stdio::Inherit();
  absl::Status setter_error = std::exchange(error_, absl::OkStatus());

  const std::string what = entry_.empty() ? absl::StrCat("spawn \"", program_, "\"")
                                          : absl::StrCat("spawn self entry \"", entry_, "\"");
  auto fail = [&what](absl::Status s) {
    return WithError(absl::Status(s.code(), absl::StrCat(what, ": ", s.message())), Error::kSpawn);
  };
  if (!setter_error.ok()) return fail(setter_error);
  for (const Stdio& s : stdio) {
    if (!s.error_.ok()) return fail(s.error_);
  }
  {
    absl::Status nul = CheckNoNul(entry_.empty() ? program_ : entry_,
                                  entry_.empty() ? "the program" : "the entry name");
    if (argv0_) nul.Update(CheckNoNul(*argv0_, "argv[0]"));
    for (size_t i = 0; i < args_.size(); ++i) {
      nul.Update(CheckNoNul(args_[i], absl::StrCat("argument ", i + 1)));
    }
    for (const auto& [name, value] : env_changes_) {
      nul.Update(CheckNoNul(name, "an environment variable name"));
      if (value) nul.Update(CheckNoNul(*value, absl::StrCat("the value of environment variable ",
                                                             absl::CEscape(name))));
    }
    if (cwd_) nul.Update(CheckNoNul(*cwd_, "the working directory"));
    for (int i = 0; i < 3; ++i) {
      if (stdio[i].kind_ == Stdio::Kind::kFile) {
        nul.Update(CheckNoNul(stdio[i].path_, absl::StrCat("the ", kStreamNames[i], " file path")));
      }
    }
    if (!nul.ok()) {
      return WithError(absl::InvalidArgumentError(absl::StrCat(
                           entry_.empty() ? absl::StrCat("spawn \"", absl::CEscape(program_), "\"")
                                          : absl::StrCat("spawn self entry \"",
                                                         absl::CEscape(entry_), "\""),
                           ": ", nul.message())),
                       Error::kInvalidArgument);
    }
  }
  if (!entry_.empty() && !internal::HasEntry(entry_)) {
    return fail(absl::NotFoundError(
        "no entry point of that name is registered in this binary (TUBO_ENTRY, tubo_entry_register)"));
  }

  // Channels by contract 2.
  std::vector<ChannelSpec> specs;
  absl::flat_hash_set<std::string> names;
  for (size_t j = 0; j < channels.size(); ++j) {
    const std::string& name = channels[j].name;
    if (!IsValidChannelName(name)) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "channel name \"", name, "\" is invalid (1-64 characters from [A-Za-z0-9_.-])")));
    }
    if (!names.insert(name).second) {
      return fail(absl::InvalidArgumentError(absl::StrCat("channel name \"", name, "\" is used twice")));
    }
    specs.push_back(ChannelSpec{name, static_cast<int>(3 + j), channels[j].mode});
  }
  for (const auto& change : env_changes_) {
    if (change.first.empty() || absl::StrContains(change.first, '=')) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("environment variable name \"", change.first, "\" is invalid")));
    }
  }

  // Move every source descriptor above the channel targets, so that no dup2
  // in the child overwrites a source it still needs. These copies are
  // close-on-exec and closed in the parent when Spawn returns.
  const int first_free = 3 + static_cast<int>(channels.size());
  std::vector<OwnedFd> sources;
  auto high_copy = [&](const OwnedFd& fd) -> absl::StatusOr<int> {
    int copy = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, first_free);
    if (copy < 0) return absl::ErrnoToStatus(errno, absl::StrCat("dup fd ", fd.get()));
    sources.push_back(OwnedFd::Adopt(copy));
    return copy;
  };
  std::vector<int> channel_fds;
  for (const ChannelEnd& c : channels) {
    absl::StatusOr<int> fd = high_copy(c.fd);
    if (!fd.ok()) return fail(fd.status());
    channel_fds.push_back(*fd);
  }

  ChildPlan plan;
  const int file_flags[3] = {O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC, O_WRONLY | O_CREAT | O_TRUNC};
  for (int i = 0; i < 3; ++i) {
    switch (stdio[i].kind_) {
      case Stdio::Kind::kInherit:
        break;
      case Stdio::Kind::kNull:
        plan.stdio[i].path = "/dev/null";
        plan.stdio[i].flags = i == 0 ? O_RDONLY : O_WRONLY;
        break;
      case Stdio::Kind::kFile:
        plan.stdio[i].path = stdio[i].path_.c_str();
        plan.stdio[i].flags = file_flags[i];
        break;
      case Stdio::Kind::kFd: {
        absl::StatusOr<int> fd = high_copy(stdio[i].fd_);
        if (!fd.ok()) return fail(fd.status());
        plan.stdio[i].fd = *fd;
        break;
      }
    }
  }
  plan.channel_fds = channel_fds.data();
  plan.channel_count = static_cast<int>(channel_fds.size());
  if (cwd_) plan.cwd = cwd_->c_str();
  plan.die_with_parent = die_with_parent_;
  plan.parent = ::getpid();
  plan.new_process_group = new_process_group_;

  // argv, environment and the paths to try.
  std::vector<std::string> argv_strings;
  argv_strings.push_back(argv0_ ? *argv0_ : program_);
  if (!entry_.empty()) argv_strings.push_back(absl::StrCat(internal::kEntryFlag, entry_));
  argv_strings.insert(argv_strings.end(), args_.begin(), args_.end());
  std::vector<std::string> env = BuildEnv(clear_env_, env_changes_, FormatChannelSpec(specs));
  std::vector<std::string> candidates;
  if (search_path_ && !absl::StrContains(program_, '/')) {
    std::string path = FindEnv(env, "PATH");
    if (path.empty()) path = "/bin:/usr/bin";
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      candidates.push_back(absl::StrCat(dir.empty() ? "." : dir, "/", program_));
    }
  } else {
    candidates.push_back(entry_.empty() ? program_ : SelfExecutable());
  }
  CStrings argv, envp, paths;
  for (const std::string& s : argv_strings) argv.Add(s);
  for (const std::string& s : env) envp.Add(s);
  for (const std::string& s : candidates) paths.Add(s);
  plan.argv = argv.Terminated();
  plan.envp = envp.Terminated();
  plan.candidates = paths.Terminated();

  void* stack = ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return fail(absl::ErrnoToStatus(errno, "mmap child stack"));
  absl::Cleanup unmap = [stack] { ::munmap(stack, kChildStackSize); };

  // All signals stay blocked until the child has reset their dispositions:
  // a handler of the parent must never run in the child, which shares the
  // parent's memory until it execs. No exit signal (the low byte of the
  // flags is 0): see tubo/process.h.
  int pidfd = -1;
  pid_t pid = -1;
  int clone_errno = 0;
  auto start = [&] {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = TUBO_CLONE(ChildMain, static_cast<char*>(stack) + kChildStackSize,
                     CLONE_VM | CLONE_VFORK | CLONE_PIDFD, &plan, &pidfd);
    clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  };
  if (die_with_parent_ && ::syscall(SYS_gettid) != ::getpid()) {
    int err = 0;
    if (!SpawnerThread::Run(start, &err)) {
      return fail(absl::ErrnoToStatus(err, "create the spawner thread (die_with_parent)"));
    }
  } else {
    start();
  }
  if (pid < 0) return fail(absl::ErrnoToStatus(clone_errno, "clone"));

  absl::StatusOr<Process> adopted =
      internal::AdoptNewChild(pid, pidfd, new_process_group_, what.c_str());
  if (!adopted.ok()) return adopted.status();
  Process process = std::move(*adopted);
  if (plan.stage != Stage::kNone) {
    process.Wait().IgnoreError();  // reap the child that failed to start
    std::vector<std::string> channel_names;
    for (const ChannelEnd& c : channels) channel_names.push_back(c.name);
    return fail(absl::ErrnoToStatus(plan.error, StageName(plan, channel_names)));
  }
  return process;
}

}  // namespace tubo
