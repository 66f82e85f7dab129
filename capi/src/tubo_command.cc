// capi/tubo_command.h: the exec and self start methods.
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
#include "internal.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

namespace {

// A call on a command: fails for a NULL command, else calls `f` with it.
template <typename F>
int CommandCall(tubo_command* command, tubo_error** err, const char* fn, F&& f) {
  return WithHandle(command, err, fn, "command", [&](tubo_command& h) { return f(h.cmd); });
}

void SetStdio(tubo::Command& cmd, int stream, tubo::Stdio stdio) {
  switch (stream) {
    case TUBO_STDIN:
      cmd.Stdin(std::move(stdio));
      break;
    case TUBO_STDOUT:
      cmd.Stdout(std::move(stdio));
      break;
    default:
      cmd.Stderr(std::move(stdio));
      break;
  }
}

// The tubo_command_stdio_* setters: checks the command and `stream`, then
// calls `f` with the command.
template <typename F>
int StdioCall(tubo_command* command, int stream, tubo_error** err, const char* fn, F&& f) {
  return CommandCall(command, err, fn, [&](tubo::Command& c) {
    if (stream < TUBO_STDIN || stream > TUBO_STDERR) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  std::string(fn) + ": stream " + std::to_string(stream) + " is not 0, 1 or 2");
    }
    return f(c);
  });
}

}  // namespace

TUBO_EXPORT int tubo_command_new(tubo_command** out, const char* program, tubo_error** err) {
  return Guard(err, "tubo_command_new", [&] {
    TUBO_REQUIRE(out, "tubo_command_new");
    TUBO_REQUIRE(program, "tubo_command_new");
    *out = new tubo_command{tubo::Command(program)};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_new_self(tubo_command** out, const char* entry, tubo_error** err) {
  return Guard(err, "tubo_command_new_self", [&] {
    TUBO_REQUIRE(out, "tubo_command_new_self");
    TUBO_REQUIRE(entry, "tubo_command_new_self");
    *out = new tubo_command{tubo::Command::Self(entry)};
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_command_free(tubo_command* command) { DeleteQuietly(command); }

TUBO_EXPORT int tubo_command_arg(tubo_command* command, const char* arg, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_arg", [&](tubo::Command& c) {
    TUBO_REQUIRE(arg, "tubo_command_arg");
    c.Arg(arg);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_argv0(tubo_command* command, const char* argv0, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_argv0", [&](tubo::Command& c) {
    TUBO_REQUIRE(argv0, "tubo_command_argv0");
    c.Argv0(argv0);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_search_path(tubo_command* command, int search, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_search_path", [&](tubo::Command& c) {
    c.SearchPath(search != 0);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_env_clear(tubo_command* command, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_env_clear", [&](tubo::Command& c) {
    c.ClearEnv();
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_env_set(tubo_command* command, const char* name, const char* value,
                                     tubo_error** err) {
  return CommandCall(command, err, "tubo_command_env_set", [&](tubo::Command& c) {
    TUBO_REQUIRE(name, "tubo_command_env_set");
    TUBO_REQUIRE(value, "tubo_command_env_set");
    c.SetEnv(name, value);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_env_unset(tubo_command* command, const char* name, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_env_unset", [&](tubo::Command& c) {
    TUBO_REQUIRE(name, "tubo_command_env_unset");
    c.UnsetEnv(name);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_working_directory(tubo_command* command, const char* dir,
                                               tubo_error** err) {
  return CommandCall(command, err, "tubo_command_working_directory", [&](tubo::Command& c) {
    TUBO_REQUIRE(dir, "tubo_command_working_directory");
    c.WorkingDirectory(dir);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_die_with_parent(tubo_command* command, int die, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_die_with_parent", [&](tubo::Command& c) {
    c.DieWithParent(die != 0);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_new_process_group(tubo_command* command, int lead, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_new_process_group", [&](tubo::Command& c) {
    c.NewProcessGroup(lead != 0);
    return Ok(err);
  });
}

// ------------------------------------------------------------------ stdio

TUBO_EXPORT int tubo_command_stdio_inherit(tubo_command* command, int stream, tubo_error** err) {
  return StdioCall(command, stream, err, "tubo_command_stdio_inherit", [&](tubo::Command& c) {
    SetStdio(c, stream, tubo::Stdio::Inherit());
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_null(tubo_command* command, int stream, tubo_error** err) {
  return StdioCall(command, stream, err, "tubo_command_stdio_null", [&](tubo::Command& c) {
    SetStdio(c, stream, tubo::Stdio::Null());
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_path(tubo_command* command, int stream, const char* path,
                                        tubo_error** err) {
  return StdioCall(command, stream, err, "tubo_command_stdio_path", [&](tubo::Command& c) {
    TUBO_REQUIRE(path, "tubo_command_stdio_path");
    SetStdio(c, stream, tubo::Stdio::Path(path));
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_fd(tubo_command* command, int stream, int fd, tubo_error** err) {
  tubo::OwnedFd owned = tubo::OwnedFd::Adopt(fd);  // consumed from here on
  return StdioCall(command, stream, err, "tubo_command_stdio_fd", [&](tubo::Command& c) {
    if (fd < 0) return Fail(err, TUBO_E_INVALID_ARGUMENT, "tubo_command_stdio_fd: fd is negative");
    SetStdio(c, stream, tubo::Stdio::Fd(std::move(owned)));
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_end(tubo_command* command, int stream, tubo_end* end,
                                       tubo_error** err) {
  std::unique_ptr<tubo_end> owned(end);  // consumed from here on
  return StdioCall(command, stream, err, "tubo_command_stdio_end", [&](tubo::Command& c) {
    TUBO_REQUIRE(end, "tubo_command_stdio_end");
    std::visit([&](auto& e) { SetStdio(c, stream, tubo::Stdio::End(std::move(e))); }, owned->v);
    return Ok(err);
  });
}

// --------------------------------------------------------- channels, spawn

TUBO_EXPORT int tubo_command_channel(tubo_command* command, const char* name, tubo_end* end,
                                     tubo_error** err) {
  std::unique_ptr<tubo_end> owned(end);  // consumed from here on
  return CommandCall(command, err, "tubo_command_channel", [&](tubo::Command& c) {
    TUBO_REQUIRE(name, "tubo_command_channel");
    TUBO_REQUIRE(end, "tubo_command_channel");
    if (!tubo::IsValidChannelName(name)) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  std::string("tubo_command_channel: \"") + name +
                      "\" is not a valid channel name ([A-Za-z0-9_.-]{1,64})");
    }
    std::visit([&](auto& e) { c.Channel(name, std::move(e)); }, owned->v);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_spawn(tubo_process** out, tubo_command* command, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_spawn", [&](tubo::Command& c) {
    TUBO_REQUIRE(out, "tubo_command_spawn");
    absl::StatusOr<tubo::Process> p = c.Spawn();
    if (!p.ok()) return FromStatus(err, p.status());
    *out = new tubo_process{std::move(*p)};
    return Ok(err);
  });
}
