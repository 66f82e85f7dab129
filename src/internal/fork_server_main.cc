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
// hands itself over: it sends a pidfd of its own and its outcome (started,
// or the stage that failed, a spawn error naming it as for Command) straight
// to the parent over the server's socket, and tells the server it did. The
// server replies itself, with the pidfd it got from the clone, only for a
// worker that could not (it ended first, or found no descriptor for a
// pidfd): a worker that failed is still the parent's child to reap, so the
// parent always gets its pidfd.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tubo/channel.h"
#include "tubo/entry.h"
#include "tubo/internal/child.h"
#include "tubo/internal/entry_registry.h"
#include "tubo/internal/exec_plan.h"
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

// Everything the worker needs, prepared by the server before the clone:
// the worker only reads it. A forked child pays a page fault for each page
// it writes, so it writes as little as it can before it reports (no
// allocation, no setenv).
struct WorkerPlan {
  const ForkServerRequest* request;
  std::vector<int> sources;  // stdio (kFd, in stream order), then channels; >= 3 + n
  std::vector<int> keep;     // the channel targets 3 .. 3+n-1 and report_fd
  int report_fd;             // >= 3 + n
  int control_fd;            // the server's socket, >= 3 + n
  pid_t parent;
  char** envp;  // the worker's environment, TUBO_CHANNELS included
};

// The worker hands itself over to the parent: a pidfd of its own and its
// outcome go straight over the server's socket, then the server hears that
// it did (a record with errno 0). False if it could not (no pidfd, the send
// failed): then the server must reply for it.
bool HandOver(const WorkerPlan& plan, int error, const char* stage) {
  const int self = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (self < 0) return false;
  char reply[kWorkerReplySize];
  const size_t size = EncodeWorkerReply(plan.request->seq, error, ::getpid(), stage, reply);
  const int err = SendWithFds(plan.control_fd, std::string_view(reply, size), &self, 1);
  ::close(self);
  if (err != 0) return false;
  SetupReport sent = {};
  (void)!::send(plan.report_fd, &sent, sizeof(sent), MSG_NOSIGNAL);
  return true;
}

// A stage of the set-up failed: the parent hears it from the worker, or
// else from the server; the worker leaves with 127.
[[noreturn]] void FailSetup(const WorkerPlan& plan, const char* stage, int error) {
  if (error == 0) error = EIO;
  if (!HandOver(plan, error, stage)) {
    SetupReport report = {};
    report.error = error;
    std::snprintf(report.stage, sizeof(report.stage), "%s", stage);
    (void)!::send(plan.report_fd, &report, sizeof(report), MSG_NOSIGNAL);
  }
  ::_exit(127);
}

// The worker, in its own copy of the server's memory. Runs the entry and
// never returns.
int WorkerMain(void* arg) {
  const WorkerPlan& plan = *static_cast<WorkerPlan*>(arg);
  const ForkServerRequest& q = *plan.request;
  const int report_fd = plan.report_fd;
  if (q.die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The parent may have died before the line above: nobody would send the
    // signal then, so the worker leaves as if it had been sent.
    if (::getppid() != plan.parent) ::kill(::getpid(), SIGKILL);
  }
  if (q.new_process_group && ::setpgid(0, 0) != 0) FailSetup(plan, "setpgid", errno);

  // Every source is above the channel targets 3 .. 3+n-1, so no dup2 below
  // overwrites a source still needed.
  size_t next = 0;
  static const char* const kOpenStage[3] = {"open stdin", "open stdout", "open stderr"};
  static const int kFileFlags[3] = {O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC,
                                    O_WRONLY | O_CREAT | O_TRUNC};
  for (int i = 0; i < 3; ++i) {
    int fd = -1;
    switch (q.stdio[i]) {
      case StdioKind::kInherit:
        continue;
      case StdioKind::kNull:
        fd = ::open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        break;
      case StdioKind::kFile:
        fd = ::open(q.stdio_path[i].c_str(), kFileFlags[i] | O_CLOEXEC, 0666);
        break;
      case StdioKind::kFd:
        fd = plan.sources[next++];
        break;
    }
    if (fd < 0) FailSetup(plan, kOpenStage[i], errno);
    if (::dup2(fd, i) < 0) FailSetup(plan, "dup2", errno);
  }
  const int n = static_cast<int>(q.channels.size());
  for (int j = 0; j < n; ++j) {
    if (::dup2(plan.sources[next + j], 3 + j) < 0) FailSetup(plan, "dup2", errno);
  }
  if (int err = CloseFdsExcept(plan.keep)) FailSetup(plan, "close descriptors", err);
  if (q.cwd && ::chdir(q.cwd->c_str()) != 0) FailSetup(plan, "chdir", errno);
  environ = plan.envp;

  if (!HandOver(plan, 0, "")) {
    FailSetup(plan, "hand the worker over", errno != 0 ? errno : EIO);
  }
  ::close(report_fd);
  ::close(plan.control_fd);

  // As a fork worker (and a CPython forkserver child) leaves: stdio
  // flushed, then _exit, so no atexit handler or static destructor of the
  // server's image runs here (each page they wrote would be one more copy).
  const int code = RunEntry(q.entry, q.args);
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(nullptr);
  ::_exit(code & 0xff);
}

// The server's end of a reply.
void Reply(int sock, uint32_t seq, int error, pid_t pid, const std::string& message, int pidfd) {
  ForkServerReply reply;
  reply.seq = seq;
  reply.error = error;
  reply.pid = pid;
  reply.message = message;
  const std::string data = EncodeReply(reply);
  // A reply that cannot be sent means the parent is gone; the next receive
  // sees the end of stream and the server leaves.
  SendWithFds(sock, data, &pidfd, pidfd >= 0 ? 1 : 0);
}

// Creates the worker for `request`: returns its pid, the read end of its
// report pipe and its pidfd, or -1 after replying with the error. The
// worker's stack is a region of this (the main) thread's stack, as after
// fork. Everything built for the worker is freed on return, while the worker
// sets up: after the clone each page the server writes costs it a copy.
pid_t CreateWorker(int sock, const ForkServerRequest& request, const std::vector<OwnedFd>& fds,
                   pid_t parent, OwnedFd* report_out, OwnedFd* pidfd_out) {
  if (!HasEntry(request.entry)) {
    Reply(sock, request.seq, ENOENT, -1,
          "no entry point of that name is registered in this binary (TUBO_ENTRY, "
          "tubo_entry_register)",
          -1);
    return -1;
  }
  size_t expected = request.channels.size();
  for (StdioKind k : request.stdio) expected += k == StdioKind::kFd ? 1 : 0;
  if (fds.size() != expected) {
    Reply(sock, request.seq, EINVAL, -1,
          absl::StrCat("fork server: the request carries ", fds.size(),
                       " descriptors where it needs ", expected),
          -1);
    return -1;
  }
  // Descriptors the worker keeps go above its channel targets 3 .. 3+n-1.
  const int n = static_cast<int>(request.channels.size());
  const int base = 3 + n;
  int report[2];
  // A socket pair, not a pipe: the worker's report must not kill it with
  // SIGPIPE when the server is gone (MSG_NOSIGNAL).
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, report) != 0) {
    Reply(sock, request.seq, errno, -1, "socketpair", -1);
    return -1;
  }
  OwnedFd report_read = OwnedFd::Adopt(report[0]);
  OwnedFd report_write = OwnedFd::Adopt(::fcntl(report[1], F_DUPFD_CLOEXEC, base));
  ::close(report[1]);
  std::vector<OwnedFd> high;
  WorkerPlan plan;
  for (const OwnedFd& fd : fds) {
    high.push_back(OwnedFd::Adopt(::fcntl(fd.get(), F_DUPFD_CLOEXEC, base)));
    plan.sources.push_back(high.back().get());
  }
  if (!report_write.valid() ||
      std::any_of(high.begin(), high.end(), [](const OwnedFd& fd) { return !fd.valid(); })) {
    Reply(sock, request.seq, errno, -1, "dup", -1);
    return -1;
  }
  std::vector<ChannelSpec> specs;
  for (int j = 0; j < n; ++j) {
    plan.keep.push_back(3 + j);
    specs.push_back(ChannelSpec{request.channels[j].first, 3 + j, request.channels[j].second});
  }
  plan.keep.push_back(report_write.get());
  OwnedFd control = OwnedFd::Adopt(::fcntl(sock, F_DUPFD_CLOEXEC, base));
  if (!control.valid()) {
    Reply(sock, request.seq, errno, -1, "dup", -1);
    return -1;
  }
  plan.keep.push_back(control.get());
  plan.control_fd = control.get();
  plan.request = &request;
  plan.report_fd = report_write.get();
  plan.parent = parent;
  const std::vector<std::string> env =
      BuildEnv(request.clear_env, request.env_changes, FormatChannelSpec(specs));
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  plan.envp = envp.data();

  constexpr size_t kStackReserve = 64 * 1024;
  char* reserve = static_cast<char*>(__builtin_alloca(kStackReserve));
  char* stack = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(reserve + kStackReserve - 64) &
                                        ~static_cast<uintptr_t>(63));
  int pidfd = -1;
  // The exit signal in the flags' low byte does not matter: with
  // CLONE_PARENT the kernel gives the worker the server's own (SIGCHLD).
  const pid_t pid = ::clone(WorkerMain, stack, CLONE_PARENT | CLONE_PIDFD, &plan, &pidfd);
  if (pid < 0) {
    Reply(sock, request.seq, errno, -1, "clone", -1);
    return -1;
  }
  *pidfd_out = OwnedFd::Adopt(pidfd);
  *report_out = std::move(report_read);
  return pid;
}

// Waits for the report of worker `pid`: a worker that handed itself over
// needs nothing more; for one that failed its set-up, or ended before it
// said, the server replies, with the worker's pidfd (it is still the
// parent's child to reap).
void AwaitWorker(int sock, uint32_t seq, pid_t pid, OwnedFd report, OwnedFd pidfd) {
  SetupReport got = {};
  ssize_t r;
  do {
    r = ::read(report.get(), &got, sizeof(got));
  } while (r < 0 && errno == EINTR);
  if (r == static_cast<ssize_t>(sizeof(got)) && got.error == 0) return;
  if (r == static_cast<ssize_t>(sizeof(got))) {
    got.stage[sizeof(got.stage) - 1] = '\0';
    Reply(sock, seq, got.error, pid, got.stage, pidfd.get());
  } else {
    Reply(sock, seq, ECHILD, pid, "the worker ended during its set-up", pidfd.get());
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
  // Allocated once, never cleared: see RecvWithFds.
  std::unique_ptr<char[]> buf(new char[kForkServerMaxRequest]);
  for (;;) {
    std::vector<OwnedFd> fds;
    const ssize_t n = RecvWithFds(sock, buf.get(), kForkServerMaxRequest, &fds);
    if (n == 0 && fds.empty()) ::_exit(0);  // the ForkServer is gone
    if (n < 0 && n != -EMSGSIZE) ::_exit(1);
    ForkServerRequest request;
    if (n < 0 || !DecodeRequest(std::string_view(buf.get(), static_cast<size_t>(n)), &request)) {
      Reply(sock, request.seq, EINVAL, -1, "fork server: malformed request", -1);
      continue;
    }
    OwnedFd report, pidfd;
    const pid_t pid = CreateWorker(sock, request, fds, parent, &report, &pidfd);
    const uint32_t seq = request.seq;
    fds.clear();  // the worker has its copies
    request = ForkServerRequest();
    if (pid > 0) AwaitWorker(sock, seq, pid, std::move(report), std::move(pidfd));
  }
}

const bool registered = RegisterEntry(kForkServerEntry, &ServerMain);

}  // namespace

bool ForkServerEntryRegistered() { return registered; }

}  // namespace internal
}  // namespace tubo
