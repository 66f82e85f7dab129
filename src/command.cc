// The exec and self start methods: Command builds a plan (argv, environment,
// the paths to try, stdio and channel descriptors), and the child
// (tubo/internal/exec_child.h) carries it out.
#include "tubo/command.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tubo/channel.h"
#include "tubo/entry.h"
#include "tubo/error.h"
#include "tubo/internal/entry_registry.h"
#include "tubo/internal/exec_child.h"
#include "tubo/internal/exec_plan.h"
#include "tubo/internal/fork.h"
#include "tubo/internal/spawner_thread.h"

namespace tubo {

using internal::ChildPlan;
using internal::Stage;

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
    error_.Update(
        WithErrno(absl::Status(fd.status().code(),
                               absl::StrCat("channel \"", name, "\": ", fd.status().message())),
                  ErrorErrno(fd.status())));
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
    return WithErrno(
        WithError(absl::Status(s.code(), absl::StrCat(what, ": ", s.message())), Error::kSpawn),
        ErrorErrno(s));
  };
  if (!setter_error.ok()) return fail(setter_error);
  for (const Stdio& s : stdio) {
    if (!s.error_.ok()) return fail(s.error_);
  }
  {
    absl::Status nul = internal::CheckNoNul(entry_.empty() ? program_ : entry_,
                                            entry_.empty() ? "the program" : "the entry name");
    if (argv0_) nul.Update(internal::CheckNoNul(*argv0_, "argv[0]"));
    for (size_t i = 0; i < args_.size(); ++i) {
      nul.Update(internal::CheckNoNul(args_[i], absl::StrCat("argument ", i + 1)));
    }
    for (const auto& [name, value] : env_changes_) {
      nul.Update(internal::CheckNoNul(name, "an environment variable name"));
      if (value)
        nul.Update(internal::CheckNoNul(
            *value, absl::StrCat("the value of environment variable ", absl::CEscape(name))));
    }
    if (cwd_) nul.Update(internal::CheckNoNul(*cwd_, "the working directory"));
    for (int i = 0; i < 3; ++i) {
      if (stdio[i].kind_ == Stdio::Kind::kFile) {
        nul.Update(internal::CheckNoNul(
            stdio[i].path_, absl::StrCat("the ", internal::kStreamNames[i], " file path")));
      }
    }
    if (!nul.ok()) {
      return WithError(
          absl::InvalidArgumentError(absl::StrCat(
              entry_.empty() ? absl::StrCat("spawn \"", absl::CEscape(program_), "\"")
                             : absl::StrCat("spawn self entry \"", absl::CEscape(entry_), "\""),
              ": ", nul.message())),
          Error::kInvalidArgument);
    }
  }
  if (!entry_.empty() && !internal::HasEntry(entry_)) {
    return fail(
        absl::NotFoundError("no entry point of that name is registered in this binary (TUBO_ENTRY, "
                            "tubo_entry_register)"));
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
      return fail(
          absl::InvalidArgumentError(absl::StrCat("channel name \"", name, "\" is used twice")));
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
    if (copy < 0) return SystemError(errno, absl::StrCat("dup fd ", fd.get()));
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
  std::vector<std::string> env =
      internal::BuildEnv(clear_env_, env_changes_, FormatChannelSpec(specs));
  const std::vector<std::string> candidates =
      entry_.empty() ? internal::ExecCandidates(program_, search_path_, env)
                     : std::vector<std::string>{internal::SelfExecutable()};
  internal::CStrings argv, envp, paths;
  for (const std::string& s : argv_strings) argv.Add(s);
  for (const std::string& s : env) envp.Add(s);
  for (const std::string& s : candidates) paths.Add(s);
  plan.argv = argv.Terminated();
  plan.envp = envp.Terminated();
  plan.candidates = paths.Terminated();

  pid_t pid = -1;
  int pidfd = -1;
  int clone_errno = 0;
  auto start = [&] { clone_errno = internal::StartExecChild(&plan, &pid, &pidfd); };
  if (die_with_parent_ && ::syscall(SYS_gettid) != ::getpid()) {
    // The kernel's parent-death signal follows the thread that creates the
    // child: a thread that lives as long as the process creates it.
    int err = 0;
    if (!internal::RunOnSpawnerThread(start, &err)) {
      return fail(SystemError(err, "create the spawner thread (die_with_parent)"));
    }
  } else {
    start();
  }
  if (clone_errno != 0) return fail(SystemError(clone_errno, "clone"));

  absl::StatusOr<Process> adopted =
      internal::AdoptNewChild(pid, pidfd, new_process_group_, what.c_str());
  if (!adopted.ok()) return adopted.status();
  Process process = std::move(*adopted);
  if (plan.stage != Stage::kNone) {
    process.Wait().IgnoreError();  // reap the child that failed to start
    std::vector<std::string> channel_names;
    for (const ChannelEnd& c : channels) channel_names.push_back(c.name);
    return fail(SystemError(plan.error, internal::StageName(plan, channel_names)));
  }
  return process;
}

}  // namespace tubo
