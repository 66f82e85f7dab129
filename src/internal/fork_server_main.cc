// The fork server process: a re-executed copy of this binary that does
// nothing but fork workers on request (see tubo/fork_server.h).
//
// It runs in the entry point kForkServerEntry, single-threaded, with the
// signal dispositions and mask the exec start method leaves (all default,
// nothing blocked), which is why a worker needs no signal reset. For each
// request it creates the worker with clone(CLONE_PARENT | CLONE_PIDFD): the
// worker is the child of the server's parent (the process that owns the
// ForkServer), so that process reaps it through the pidfd it is sent, and
// its exit signal is the server's own, SIGCHLD, as for any self worker. The
// worker arranges its descriptors, streams, directory and environment, then
// reports on a pipe; the server waits for that report (a failed stage is a
// spawn error naming it, as for Command) and replies with the pidfd, which
// goes back whatever the outcome: a worker that failed its set-up is still
// the parent's child to reap.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tubo/channel.h"
#include "tubo/entry.h"
#include "tubo/internal/child.h"
#include "tubo/internal/entry_registry.h"
#include "tubo/internal/fork_server_main.h"
#include "tubo/internal/fork_server_wire.h"

namespace tubo {
namespace internal {
namespace {

// What a worker reports to the server once it is set up: errno 0, or the
// errno of the stage that failed and the stage's name.
struct SetupReport {
  int32_t error;
  char stage[28];
};

struct WorkerArgs {
  const ForkServerRequest* request;
  const std::vector<OwnedFd>* fds;  // stdio (kFd, in stream order), then channels
  int report_fd;
  pid_t parent;
};

[[noreturn]] void FailSetup(int report_fd, const char* stage, int error) {
  SetupReport report = {};
  report.error = error != 0 ? error : EIO;
  std::snprintf(report.stage, sizeof(report.stage), "%s", stage);
  (void)!::write(report_fd, &report, sizeof(report));
  ::_exit(127);
}

// The worker, in its own copy of the server's memory. Runs the entry and
// never returns.
int WorkerMain(void* arg) {
  const WorkerArgs& a = *static_cast<WorkerArgs*>(arg);
  const ForkServerRequest& q = *a.request;
  if (q.die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The parent may have died before the line above: nobody would send the
    // signal then, so the worker leaves as if it had been sent.
    if (::getppid() != a.parent) ::kill(::getpid(), SIGKILL);
  }
  if (q.new_process_group && ::setpgid(0, 0) != 0) FailSetup(a.report_fd, "setpgid", errno);

  // Every source above the channel targets 3 .. 3+n-1 first, so that no
  // dup2 below overwrites a source still needed.
  const int n = static_cast<int>(q.channels.size());
  const int base = 3 + n;
  auto high = [&](int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, base);
    if (copy < 0) FailSetup(a.report_fd, "dup", errno);
    return copy;
  };
  const int report_fd = high(a.report_fd);
  std::vector<int> sources;
  for (const OwnedFd& fd : *a.fds) sources.push_back(high(fd.get()));

  size_t next = 0;
  static const char* const kOpenStage[3] = {"open stdin", "open stdout", "open stderr"};
  const int file_flags[3] = {O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC, O_WRONLY | O_CREAT | O_TRUNC};
  for (int i = 0; i < 3; ++i) {
    int fd = -1;
    switch (q.stdio[i]) {
      case StdioKind::kInherit:
        continue;
      case StdioKind::kNull:
        fd = ::open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        break;
      case StdioKind::kFile:
        fd = ::open(q.stdio_path[i].c_str(), file_flags[i] | O_CLOEXEC, 0666);
        break;
      case StdioKind::kFd:
        fd = sources[next++];
        break;
    }
    if (fd < 0) FailSetup(report_fd, kOpenStage[i], errno);
    if (::dup2(fd, i) < 0) FailSetup(report_fd, "dup2", errno);
  }
  std::vector<int> keep;
  std::vector<ChannelSpec> specs;
  for (int j = 0; j < n; ++j) {
    if (::dup2(sources[next + j], 3 + j) < 0) FailSetup(report_fd, "dup2", errno);
    keep.push_back(3 + j);
    specs.push_back(ChannelSpec{q.channels[j].first, 3 + j, q.channels[j].second});
  }
  keep.push_back(report_fd);
  if (int err = CloseFdsExcept(keep)) FailSetup(report_fd, "close descriptors", err);
  if (q.cwd && ::chdir(q.cwd->c_str()) != 0) FailSetup(report_fd, "chdir", errno);

  if (q.clear_env) ::clearenv();
  for (const auto& [name, value] : q.env_changes) {
    const int r = value ? ::setenv(name.c_str(), value->c_str(), 1) : ::unsetenv(name.c_str());
    if (r != 0) FailSetup(report_fd, "environment", errno);
  }
  if (specs.empty()) {
    ::unsetenv(kChannelsEnvVar);
  } else if (::setenv(kChannelsEnvVar, FormatChannelSpec(specs).c_str(), 1) != 0) {
    FailSetup(report_fd, "environment", errno);
  }

  SetupReport ok = {};
  (void)!::write(report_fd, &ok, sizeof(ok));
  ::close(report_fd);

  // The same dispatch as a self worker's main: runs the entry, exits with
  // its return value (std::exit, so stdio is flushed).
  std::string flag = absl::StrCat(kEntryFlag, q.entry);
  std::vector<char*> argv;
  argv.push_back(program_invocation_name);
  argv.push_back(flag.data());
  for (const std::string& s : q.args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  RunEntryIfRequested(static_cast<int>(argv.size() - 1), argv.data());
  ::_exit(2);  // not reached: the entry was checked before the clone
}

// The server's end of a reply.
void Reply(int sock, int error, pid_t pid, const std::string& message, int pidfd) {
  ForkServerReply reply;
  reply.error = error;
  reply.pid = pid;
  reply.message = message;
  const std::string data = EncodeReply(reply);
  // A reply that cannot be sent means the parent is gone; the next receive
  // sees the end of stream and the server leaves.
  SendWithFds(sock, data, &pidfd, pidfd >= 0 ? 1 : 0);
}

// Creates the worker for `request` and replies. The worker's stack is a
// region of this (the main) thread's stack, as after fork.
void Serve(int sock, const ForkServerRequest& request, const std::vector<OwnedFd>& fds,
           pid_t parent) {
  if (!HasEntry(request.entry)) {
    Reply(sock, ENOENT, -1,
          "no entry point of that name is registered in this binary (TUBO_ENTRY, "
          "tubo_entry_register)",
          -1);
    return;
  }
  size_t expected = request.channels.size();
  for (StdioKind k : request.stdio) expected += k == StdioKind::kFd ? 1 : 0;
  if (fds.size() != expected) {
    Reply(sock, EINVAL, -1,
          absl::StrCat("fork server: the request carries ", fds.size(),
                       " descriptors where it needs ", expected),
          -1);
    return;
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    Reply(sock, errno, -1, "pipe", -1);
    return;
  }
  OwnedFd report_read = OwnedFd::Adopt(report[0]);
  OwnedFd report_write = OwnedFd::Adopt(report[1]);
  WorkerArgs args{&request, &fds, report_write.get(), parent};
  constexpr size_t kStackReserve = 64 * 1024;
  char* reserve = static_cast<char*>(__builtin_alloca(kStackReserve));
  char* stack = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(reserve + kStackReserve - 64) &
                                        ~static_cast<uintptr_t>(63));
  int pidfd = -1;
  // The exit signal in the flags' low byte does not matter: with
  // CLONE_PARENT the kernel gives the worker the server's own (SIGCHLD).
  const pid_t pid = ::clone(WorkerMain, stack, CLONE_PARENT | CLONE_PIDFD, &args, &pidfd);
  if (pid < 0) {
    Reply(sock, errno, -1, "clone", -1);
    return;
  }
  OwnedFd worker = OwnedFd::Adopt(pidfd);
  report_write.Reset();
  SetupReport got = {};
  ssize_t r;
  do {
    r = ::read(report_read.get(), &got, sizeof(got));
  } while (r < 0 && errno == EINTR);
  if (r == static_cast<ssize_t>(sizeof(got)) && got.error == 0) {
    Reply(sock, 0, pid, "", worker.get());
  } else if (r == static_cast<ssize_t>(sizeof(got))) {
    got.stage[sizeof(got.stage) - 1] = '\0';
    Reply(sock, got.error, pid, got.stage, worker.get());
  } else {
    Reply(sock, ECHILD, pid, "the worker ended during its set-up", worker.get());
  }
}

int ServerMain(const std::vector<std::string>&) {
  int sock = -1;
  const char* spec = std::getenv(kChannelsEnvVar);
  absl::StatusOr<std::vector<ChannelSpec>> channels = ParseChannelSpec(spec != nullptr ? spec : "");
  if (channels.ok()) {
    for (const ChannelSpec& c : *channels) {
      if (c.name == kForkServerChannel) sock = c.fd;
    }
  }
  if (sock < 0) {
    std::fprintf(stderr, "tubo: fork server: started without its \"%s\" channel\n",
                 kForkServerChannel);
    return 2;
  }
  ::fcntl(sock, F_SETFD, FD_CLOEXEC);
  ::unsetenv(kChannelsEnvVar);  // the workers' own is set per request
  const pid_t parent = ::getppid();
  const std::string hello = EncodeHello();
  if (SendWithFds(sock, hello, nullptr, 0) != 0) return 0;
  std::string data;
  for (;;) {
    std::vector<OwnedFd> fds;
    const ssize_t n = RecvWithFds(sock, kForkServerMaxRequest, &data, &fds);
    if (n == 0 && fds.empty()) ::_exit(0);  // the ForkServer is gone
    if (n < 0 && n != -EMSGSIZE) ::_exit(1);
    ForkServerRequest request;
    if (n < 0 || !DecodeRequest(data, &request)) {
      Reply(sock, EINVAL, -1, "fork server: malformed request", -1);
      continue;
    }
    Serve(sock, request, fds, parent);
  }
}

const bool registered = RegisterEntry(kForkServerEntry, &ServerMain);

}  // namespace

bool ForkServerEntryRegistered() { return registered; }

}  // namespace internal
}  // namespace tubo
