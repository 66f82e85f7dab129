// WorkerStart: how a pool starts its workers (see tubo/pool.h), and starting
// one (internal/pool_launch.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "tubo/command.h"
#include "tubo/error.h"
#include "tubo/fork.h"
#include "tubo/fork_server.h"
#include "tubo/internal/pool_launch.h"
#include "tubo/pipe.h"
#include "tubo/pool.h"
#include "tubo/stdio.h"

namespace tubo {

WorkerStart WorkerStart::Self(std::string entry) {
  WorkerStart start;
  start.kind_ = Kind::kSelf;
  start.target_ = std::move(entry);
  return start;
}

WorkerStart WorkerStart::Exec(std::string program) {
  WorkerStart start;
  start.kind_ = Kind::kExec;
  start.target_ = std::move(program);
  return start;
}

WorkerStart WorkerStart::Fork(std::function<int(ReadEnd tasks, WriteEnd results)> fn) {
  WorkerStart start;
  start.kind_ = Kind::kFork;
  start.fork_fn_ = std::move(fn);
  return start;
}

WorkerStart WorkerStart::ForkServer(std::string entry, std::shared_ptr<tubo::ForkServer> server) {
  WorkerStart start;
  start.kind_ = Kind::kForkServer;
  start.target_ = std::move(entry);
  start.fork_server_ = server ? std::move(server) : std::make_shared<tubo::ForkServer>();
  return start;
}

WorkerStart& WorkerStart::Arg(std::string arg) {
  args_.push_back(std::move(arg));
  return *this;
}

WorkerStart& WorkerStart::SetEnv(std::string name, std::string value) {
  env_.emplace_back(std::move(name), std::move(value));
  return *this;
}

WorkerStart& WorkerStart::WorkingDirectory(std::string dir) {
  cwd_ = std::move(dir);
  return *this;
}

WorkerStart& WorkerStart::CaptureStderr(bool capture) {
  capture_stderr_ = capture;
  return *this;
}

std::string WorkerStart::Describe() const {
  switch (kind_) {
    case Kind::kSelf:
      return absl::StrCat("self \"", target_, "\"");
    case Kind::kExec:
      return absl::StrCat("exec \"", target_, "\"");
    case Kind::kForkServer:
      return absl::StrCat("fork server \"", target_, "\"");
    case Kind::kFork:
      break;
  }
  return "fork";
}

namespace internal {

absl::Status CheckWorkerStart(const WorkerStart& start) {
  const bool fork = start.kind_ == WorkerStart::Kind::kFork;
  if (fork ? !start.fork_fn_ : start.target_.empty()) {
    return WithError(absl::InvalidArgumentError(
                         absl::StrCat("pool: worker start ", start.Describe(),
                                      fork ? ": no function to run" : ": empty program or entry")),
                     Error::kInvalidArgument);
  }
  return absl::OkStatus();
}

namespace {

// One direction of a worker's channels over a stream socket pair rather than
// a pipe: a send on a socket refuses SIGPIPE per call (MSG_NOSIGNAL), where a
// pipe needs the thread's signal mask changed twice around every write, on
// both sides of every task. The worker sees a descriptor it reads or writes
// as it would a pipe's (contract 2); end of stream and a vanished peer behave
// the same.
absl::StatusOr<Pipe> OneWay() {
  absl::StatusOr<DuplexPipe> pair = DuplexPipe::Create();
  if (!pair.ok()) return pair.status();
  absl::StatusOr<OwnedFd> reader = pair->first.Release();
  if (!reader.ok()) return reader.status();
  absl::StatusOr<OwnedFd> writer = pair->second.Release();
  if (!writer.ok()) return writer.status();
  return Pipe{ReadEnd(std::move(*reader)), WriteEnd(std::move(*writer))};
}

}  // namespace

absl::StatusOr<LaunchedWorker> LaunchWorker(const WorkerStart& start) {
  absl::StatusOr<Pipe> tasks = OneWay();
  if (!tasks.ok()) return tasks.status();
  absl::StatusOr<Pipe> results = OneWay();
  if (!results.ok()) return results.status();
  LaunchedWorker launched;
  launched.tasks = std::move(tasks->writer);
  launched.results = std::move(results->reader);
  absl::StatusOr<Process> process;
  if (start.kind_ == WorkerStart::Kind::kFork) {
    ForkOptions options;
    options.allow_threads = true;  // the supervisor thread forks (see WorkerStart::Fork)
    options.die_with_parent = true;
    options.new_process_group = true;
    const std::function<int(ReadEnd, WriteEnd)>& fn = start.fork_fn_;
    process = tubo::Fork(
        options, [&fn](ReadEnd in, WriteEnd out) { return fn(std::move(in), std::move(out)); },
        std::move(tasks->reader), std::move(results->writer));
  } else {
    Command command = start.kind_ == WorkerStart::Kind::kExec ? Command(start.target_)
                                                              : Command::Self(start.target_);
    command.Args(start.args_).DieWithParent(true).NewProcessGroup(true);
    for (const auto& [name, value] : start.env_) command.SetEnv(name, value);
    if (start.cwd_) command.WorkingDirectory(*start.cwd_);
    if (start.capture_stderr_) {
      absl::StatusOr<Pipe> err = Pipe::Create();
      if (!err.ok()) return err.status();
      launched.err = std::move(err->reader);
      command.Stderr(Stdio::End(std::move(err->writer)));
    }
    command.Channel("tasks", std::move(tasks->reader));
    command.Channel("results", std::move(results->writer));
    process = start.kind_ == WorkerStart::Kind::kForkServer ? start.fork_server_->Spawn(command)
                                                            : command.Spawn();
  }
  if (!process.ok()) return process.status();
  launched.process = std::move(*process);
  launched.process.set_stop_sequence(StopSequence::KillNow());
  return launched;
}

}  // namespace internal
}  // namespace tubo
