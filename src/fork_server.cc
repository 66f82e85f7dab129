// The fork server start method, the parent's side (tubo/fork_server.h); the
// server's side is internal/fork_server_main.cc, the messages
// internal/fork_server_wire.cc.
#include "tubo/fork_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tubo/channel.h"
#include "tubo/error.h"
#include "tubo/internal/entry_registry.h"
#include "tubo/internal/exec_child.h"
#include "tubo/internal/exec_plan.h"
#include "tubo/internal/fork.h"
#include "tubo/internal/fork_server_main.h"
#include "tubo/internal/fork_server_wire.h"
#include "tubo/internal/io.h"

namespace tubo {
namespace internal {

// The server held by a ForkServer; `mu` serialises requests and restarts.
struct ForkServerState {
  std::mutex mu;
  Process server;  // empty when no server runs
  OwnedFd control;
  uint32_t seq = 0;  // of the last request sent
};

namespace {

// How long Start waits for a new server to say it is ready.
constexpr int kHelloTimeoutMs = 10'000;

absl::Status SpawnError(absl::Status s) { return WithError(std::move(s), Error::kSpawn); }

// "fork server: <what>: <errno text>", kind kSpawn, with the errno.
absl::Status ServerError(int err, const std::string& what) {
  return SystemError(err, absl::StrCat("fork server: ", what), Error::kSpawn);
}

// Ends the server held, if any: closes the socket and kills and reaps the
// process (a server holds nothing worth a grace period).
void DropServer(ForkServerState& s) {
  s.control.Reset();
  s.server = Process();
}

// Starts a server into `s` and waits for its hello.
absl::Status StartServer(ForkServerState& s) {
  DropServer(s);
  if (!ForkServerEntryRegistered()) {
    return SpawnError(absl::FailedPreconditionError(
        absl::StrCat("fork server: the entry point name \"", kForkServerEntry,
                     "\" is taken by another entry of this binary")));
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return ServerError(errno, "socketpair");
  }
  OwnedFd ours = OwnedFd::Adopt(OffStdio(sv[0]));
  OwnedFd theirs = OwnedFd::Adopt(OffStdio(sv[1]));
  if (!ours.valid() || !theirs.valid()) return ServerError(errno, "socketpair");
  absl::StatusOr<Process> server = Command::Self(kForkServerEntry)
                                       .Channel(kForkServerChannel, DuplexEnd(std::move(theirs)))
                                       .DieWithParent(true)
                                       .Spawn();
  if (!server.ok()) {
    return WithErrno(
        SpawnError(absl::Status(server.status().code(),
                                absl::StrCat("fork server: start: ", server.status().message()))),
        ErrorErrno(server.status()));
  }
  server->set_stop_sequence(StopSequence::KillNow());
  struct pollfd p[2] = {{ours.get(), POLLIN, 0}, {server->pidfd().get(), POLLIN, 0}};
  int r;
  do {
    r = ::poll(p, 2, kHelloTimeoutMs);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ServerError(errno, "poll for the server's hello");
  if (r == 0) {
    return SpawnError(absl::DeadlineExceededError(
        absl::StrCat("fork server: the server (pid ", server->pid(),
                     ") did not say it was ready within 10 s; does main call "
                     "tubo::RunEntryIfRequested first?")));
  }
  char hello[64];
  std::vector<OwnedFd> fds;
  const ssize_t n =
      (p[0].revents & POLLIN) != 0 ? RecvWithFds(ours.get(), hello, sizeof(hello), &fds) : -1;
  if (n > 0 && DecodeHello(std::string_view(hello, static_cast<size_t>(n))) && fds.empty()) {
    s.server = std::move(*server);
    s.control = std::move(ours);
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<ExitStatus>> st = server->WaitFor(absl::Seconds(1));
  const std::string how =
      st.ok() && st->has_value() ? (*st)->ToString() : std::string("still running; killed");
  return SpawnError(absl::FailedPreconditionError(
      absl::StrCat("fork server: the server (pid ", server->pid(), ") ended before it was ready (",
                   how, "); does main call tubo::RunEntryIfRequested first?")));
}

}  // namespace
}  // namespace internal

using internal::ForkServerRequest;
using internal::StdioKind;

ForkServer::ForkServer() : state_(std::make_unique<internal::ForkServerState>()) {}
ForkServer::~ForkServer() = default;
ForkServer::ForkServer(ForkServer&& other) noexcept = default;
ForkServer& ForkServer::operator=(ForkServer&& other) noexcept = default;

absl::StatusOr<ForkServer> ForkServer::Start() {
  ForkServer server;
  absl::Status s = internal::StartServer(*server.state_);
  if (!s.ok()) return s;
  return server;
}

pid_t ForkServer::server_pid() const {
  if (!state_) return -1;
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->server.owns_child() ? state_->server.pid() : -1;
}

absl::StatusOr<Process> ForkServer::Spawn(Command& command) {
  // Whatever happens, the ends handed to the command are closed on return.
  std::vector<Command::ChannelEnd> channels = std::move(command.channels_);
  command.channels_.clear();
  Stdio stdio[3] = {std::move(command.stdio_[0]), std::move(command.stdio_[1]),
                    std::move(command.stdio_[2])};
  for (Stdio& s : command.stdio_) s = Stdio::Inherit();
  const absl::Status setter_error = std::exchange(command.error_, absl::OkStatus());
  if (!state_) {
    return WithError(absl::FailedPreconditionError("fork server: the handle was moved from"),
                     Error::kClosed);
  }
  if (command.entry_.empty()) {
    return WithError(absl::InvalidArgumentError(
                         absl::StrCat("fork server spawn \"", absl::CEscape(command.program_),
                                      "\": a fork server runs entry points only; use Command::Self "
                                      "(C: tubo_command_new_self)")),
                     Error::kInvalidArgument);
  }
  const std::string what = absl::StrCat("fork server spawn entry \"", command.entry_, "\"");
  auto fail = [&what](absl::Status s) {
    return WithErrno(
        WithError(absl::Status(s.code(), absl::StrCat(what, ": ", s.message())), Error::kSpawn),
        ErrorErrno(s));
  };
  if (!setter_error.ok()) return fail(setter_error);
  for (const Stdio& s : stdio) {
    if (!s.error_.ok()) return fail(s.error_);
  }

  ForkServerRequest q;
  q.entry = command.entry_;
  q.args = command.args_;
  q.clear_env = command.clear_env_;
  q.env_changes = command.env_changes_;
  q.cwd = command.cwd_;
  q.die_with_parent = command.die_with_parent_;
  q.new_process_group = command.new_process_group_;
  {
    absl::Status nul = internal::CheckNoNul(q.entry, "the entry name");
    for (size_t i = 0; i < q.args.size(); ++i) {
      nul.Update(internal::CheckNoNul(q.args[i], absl::StrCat("argument ", i + 1)));
    }
    for (const auto& [name, value] : q.env_changes) {
      nul.Update(internal::CheckNoNul(name, "an environment variable name"));
      if (value) {
        nul.Update(internal::CheckNoNul(
            *value, absl::StrCat("the value of environment variable ", absl::CEscape(name))));
      }
    }
    if (q.cwd) nul.Update(internal::CheckNoNul(*q.cwd, "the working directory"));
    for (int i = 0; i < 3; ++i) {
      if (stdio[i].kind_ == Stdio::Kind::kFile) {
        nul.Update(internal::CheckNoNul(
            stdio[i].path_, absl::StrCat("the ", internal::kStreamNames[i], " file path")));
      }
    }
    if (!nul.ok()) {
      return WithError(
          absl::InvalidArgumentError(absl::StrCat("fork server spawn entry \"",
                                                  absl::CEscape(q.entry), "\": ", nul.message())),
          Error::kInvalidArgument);
    }
  }
  if (!internal::HasEntry(q.entry)) {
    return fail(
        absl::NotFoundError("no entry point of that name is registered in this binary (TUBO_ENTRY, "
                            "tubo_entry_register)"));
  }
  absl::flat_hash_set<std::string> names;
  for (const Command::ChannelEnd& c : channels) {
    if (!IsValidChannelName(c.name)) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "channel name \"", c.name, "\" is invalid (1-64 characters from [A-Za-z0-9_.-])")));
    }
    if (!names.insert(c.name).second) {
      return fail(
          absl::InvalidArgumentError(absl::StrCat("channel name \"", c.name, "\" is used twice")));
    }
  }
  for (const auto& change : q.env_changes) {
    if (change.first.empty() || absl::StrContains(change.first, '=')) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("environment variable name \"", change.first, "\" is invalid")));
    }
  }

  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    switch (stdio[i].kind_) {
      case Stdio::Kind::kInherit:
        q.stdio[i] = StdioKind::kInherit;
        break;
      case Stdio::Kind::kNull:
        q.stdio[i] = StdioKind::kNull;
        break;
      case Stdio::Kind::kFile:
        q.stdio[i] = StdioKind::kFile;
        q.stdio_path[i] = stdio[i].path_;
        break;
      case Stdio::Kind::kFd:
        q.stdio[i] = StdioKind::kFd;
        fds.push_back(stdio[i].fd_.get());
        break;
    }
  }
  for (const Command::ChannelEnd& c : channels) {
    q.channels.emplace_back(c.name, c.mode);
    fds.push_back(c.fd.get());
  }
  if (fds.size() > internal::kForkServerMaxFds) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat(fds.size(), " descriptors to hand over; a fork server takes at most ",
                     internal::kForkServerMaxFds)));
  }
  std::string data = internal::EncodeRequest(q);  // its sequence number is set below
  if (data.size() > internal::kForkServerMaxRequest) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("the command takes ", data.size(), " bytes; a fork server takes at most ",
                     internal::kForkServerMaxRequest, " (arguments, environment, paths)")));
  }

  internal::ForkServerState& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  q.seq = ++s.seq;
  if (q.seq == 0) q.seq = ++s.seq;  // 0 answers a request the server could not read
  internal::SetRequestSeq(q.seq, &data);
  // A server that died is replaced, and the request sent again once: before
  // the request is sent (its pidfd), when the send finds its socket closed,
  // and when the socket reaches end of stream before a reply. A worker, once
  // created, hands itself over (or the server does it for a worker that
  // could not) before the socket can reach end of stream, so then none was
  // started and sending again cannot start it twice.
  internal::ForkServerReply reply;
  std::vector<OwnedFd> reply_fds;
  for (int attempt = 0;; ++attempt) {
    if (!s.control.valid() || !s.server.is_alive()) {
      absl::Status started = internal::StartServer(s);
      if (!started.ok()) return fail(started);
    }
    const int err = internal::SendWithFds(s.control.get(), data, fds.data(), fds.size());
    if (err != 0) {
      internal::DropServer(s);
      if ((err == EPIPE || err == ECONNRESET) && attempt == 0) continue;
      return fail(internal::ServerError(err, "send the request"));
    }
    // The reply comes from the worker itself or from the server; a second,
    // late reply to an earlier request is dropped (see fork_server_wire.h).
    ssize_t n;
    for (;;) {
      char reply_data[4096];
      reply_fds.clear();
      n = internal::RecvWithFds(s.control.get(), reply_data, sizeof(reply_data), &reply_fds);
      if (n <= 0) break;
      if (!internal::DecodeReply(std::string_view(reply_data, static_cast<size_t>(n)), &reply) ||
          reply_fds.size() > 1 || (reply.pid > 0) != (reply_fds.size() == 1)) {
        internal::DropServer(s);
        return fail(internal::ServerError(EPROTO, "receive the reply"));
      }
      if (reply.seq == q.seq || reply.seq == 0) break;
    }
    if (n > 0) break;
    internal::DropServer(s);
    // ECONNRESET: the server ended with the request still unread.
    const bool ended = n == 0 || n == -ECONNRESET;
    if (ended && attempt == 0) continue;
    if (ended) {
      return fail(absl::UnavailableError(
          "fork server: the server ended twice before it started the worker (the next spawn "
          "starts a new server)"));
    }
    return fail(internal::ServerError(static_cast<int>(-n), "receive the reply"));
  }
  if (reply.pid <= 0) return fail(internal::ServerError(reply.error, reply.message));
  absl::StatusOr<Process> worker =
      internal::AdoptNewChild(reply.pid, reply_fds[0].Release(), q.new_process_group, what.c_str());
  if (!worker.ok()) return worker.status();
  if (reply.error != 0) {
    // The worker failed its set-up and exited: reap it, report the stage.
    worker->set_stop_sequence(StopSequence::KillNow());
    worker->Wait().IgnoreError();
    return fail(SystemError(reply.error, reply.message));
  }
  return worker;
}

}  // namespace tubo
