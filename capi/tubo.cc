// The C ABI (capi/tubo.h) over the C++ core. Every exported function catches
// every exception (nothing may unwind into C) and checks its arguments, so a
// NULL or invalid argument is an error code, never a crash.
#include "tubo.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tubo/tubo.h"
#include "tubo/internal/entry_registry.h"
#include "tubo/internal/fork.h"

#define TUBO_EXPORT extern "C" __attribute__((visibility("default")))

struct tubo_error {
  int code;
  std::string message;
};

struct tubo_end {
  std::variant<tubo::ReadEnd, tubo::WriteEnd, tubo::DuplexEnd> v;
};

struct tubo_command {
  tubo::Command cmd;
};

struct tubo_process {
  tubo::Process p;
};

struct tubo_wait_set {
  tubo::WaitSet set;
};

namespace {

// Stores an error (if `err` is wanted) and returns `code`.
int Fail(tubo_error** err, int code, std::string message) {
  if (err != nullptr) *err = new (std::nothrow) tubo_error{code, std::move(message)};
  return code;
}

int Ok(tubo_error** err) {
  if (err != nullptr) *err = nullptr;
  return TUBO_OK;
}

// The C code of each C++ kind: minus its value (tubo::Error's table).
constexpr int CodeOf(tubo::Error kind) { return -static_cast<int>(kind); }

// The C header spells every kind of the table, with the value the table gives:
// a kind added to TUBO_ERROR_KINDS without its TUBO_E_ code, or with another
// value, fails to compile here.
#define TUBO_CHECK_C_CODE(kind, value, c_name, name, meaning)   \
  static_assert(TUBO_E_##c_name == -(value) && TUBO_E_##c_name > TUBO_E_C_ONLY_FIRST, \
                "TUBO_E_" #c_name " must be -" #value);
TUBO_ERROR_KINDS(TUBO_CHECK_C_CODE)
#undef TUBO_CHECK_C_CODE

int FromStatus(tubo_error** err, const absl::Status& status) {
  if (status.ok()) return Ok(err);
  const tubo::Error kind = tubo::ErrorOf(status);
  int code = std::string_view(tubo::ErrorName(kind)) == "unknown" || kind == tubo::Error::kOk
                 ? TUBO_E_OTHER
                 : CodeOf(kind);
  return Fail(err, code, std::string(status.message()));
}

int Null(tubo_error** err, const char* fn, const char* arg) {
  return Fail(err, TUBO_E_INVALID_ARGUMENT, std::string(fn) + ": " + arg + " is NULL");
}

// Runs `body`, turning escaping exceptions into error codes.
template <typename F>
int Guard(tubo_error** err, const char* fn, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(err, TUBO_E_NO_MEMORY, std::string(fn) + ": out of memory");
  } catch (const std::exception& e) {
    return Fail(err, TUBO_E_OTHER, std::string(fn) + ": " + e.what());
  } catch (...) {
    return Fail(err, TUBO_E_OTHER, std::string(fn) + ": unknown exception");
  }
}

absl::Duration Ms(int64_t ms) {
  return ms < 0 ? absl::InfiniteDuration() : absl::Milliseconds(ms);
}

tubo_end* NewEnd(tubo::ReadEnd e) { return new tubo_end{std::move(e)}; }
tubo_end* NewEnd(tubo::WriteEnd e) { return new tubo_end{std::move(e)}; }
tubo_end* NewEnd(tubo::DuplexEnd e) { return new tubo_end{std::move(e)}; }

int WrongKind(tubo_error** err, const char* fn, const char* needed) {
  return Fail(err, TUBO_E_INVALID_ARGUMENT, std::string(fn) + ": end must be " + needed);
}

// Calls `f` with the end's receiving alternative, or fails for a write end.
template <typename F>
int WithReceiver(tubo_end* end, tubo_error** err, const char* fn, F&& f) {
  if (end == nullptr) return Null(err, fn, "end");
  if (auto* r = std::get_if<tubo::ReadEnd>(&end->v)) return f(*r);
  if (auto* d = std::get_if<tubo::DuplexEnd>(&end->v)) return f(*d);
  return WrongKind(err, fn, "a read or duplex end");
}

// Calls `f` with the end's sending alternative, or fails for a read end.
template <typename F>
int WithSender(tubo_end* end, tubo_error** err, const char* fn, F&& f) {
  if (end == nullptr) return Null(err, fn, "end");
  if (auto* w = std::get_if<tubo::WriteEnd>(&end->v)) return f(*w);
  if (auto* d = std::get_if<tubo::DuplexEnd>(&end->v)) return f(*d);
  return WrongKind(err, fn, "a write or duplex end");
}

bool ValidStream(int stream) { return stream >= TUBO_STDIN && stream <= TUBO_STDERR; }

void SetStdio(tubo::Command& cmd, int stream, tubo::Stdio stdio) {
  switch (stream) {
    case TUBO_STDIN: cmd.Stdin(std::move(stdio)); break;
    case TUBO_STDOUT: cmd.Stdout(std::move(stdio)); break;
    default: cmd.Stderr(std::move(stdio)); break;
  }
}

int BadStream(tubo_error** err, const char* fn, int stream) {
  return Fail(err, TUBO_E_INVALID_ARGUMENT,
              std::string(fn) + ": stream " + std::to_string(stream) + " is not 0, 1 or 2");
}

// The C++ side of every C entry: calls the C function (the context) with a
// C argv whose argv[0] is the entry's name.
int CEntryTrampoline(void* ctx, const std::string& name, const std::vector<std::string>& args) {
  tubo_entry_fn fn = reinterpret_cast<tubo_entry_fn>(ctx);
  std::vector<std::string> storage;
  storage.push_back(name);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return fn(static_cast<int>(storage.size()), argv.data());
}

int WaitResult(int* out, tubo_process* process, const std::optional<tubo::ExitStatus>& st,
               tubo_error** err) {
  if (!st) return Fail(err, TUBO_E_TIMEOUT, "wait for pid " + std::to_string(process->p.pid()) +
                                                ": the process is still running");
  if (out != nullptr) *out = st->returncode();
  return Ok(err);
}

}  // namespace

// ---------------------------------------------------------------- version

TUBO_EXPORT unsigned tubo_version(void) { return TUBO_VERSION_NUMBER; }

#define TUBO_STR2(x) #x
#define TUBO_STR(x) TUBO_STR2(x)
TUBO_EXPORT const char* tubo_version_string(void) {
  return TUBO_STR(TUBO_VERSION_MAJOR) "." TUBO_STR(TUBO_VERSION_MINOR) "." TUBO_STR(
      TUBO_VERSION_PATCH);
}

// ----------------------------------------------------------------- errors

TUBO_EXPORT void tubo_error_free(tubo_error* error) { delete error; }

TUBO_EXPORT int tubo_error_code(const tubo_error* error) {
  return error == nullptr ? TUBO_OK : error->code;
}

TUBO_EXPORT const char* tubo_error_message(const tubo_error* error) {
  return error == nullptr ? "" : error->message.c_str();
}

TUBO_EXPORT const char* tubo_code_name(int code) {
  switch (code) {
    case TUBO_OK: return "ok";
    case TUBO_EOF: return "eof";
    case TUBO_E_BUFFER_TOO_SMALL: return "buffer_too_small";
    case TUBO_E_NO_MEMORY: return "no_memory";
    default:
      // ErrorName says "unknown" for a value outside the table, and "ok" for 0.
      if (code < 0 && code > TUBO_E_C_ONLY_FIRST) {
        return tubo::ErrorName(static_cast<tubo::Error>(-code));
      }
      return "unknown";
  }
}

// ------------------------------------------------------------------ bytes

TUBO_EXPORT void tubo_bytes_free(tubo_bytes* bytes) {
  if (bytes == nullptr) return;
  std::free(const_cast<uint8_t*>(bytes->data));
  std::free(bytes);
}

// ------------------------------------------------------------------- ends

TUBO_EXPORT int tubo_pipe_new(tubo_end** out_reader, tubo_end** out_writer, tubo_error** err) {
  return Guard(err, "tubo_pipe_new", [&] {
    if (out_reader == nullptr) return Null(err, "tubo_pipe_new", "out_reader");
    if (out_writer == nullptr) return Null(err, "tubo_pipe_new", "out_writer");
    absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
    if (!pipe.ok()) return FromStatus(err, pipe.status());
    tubo_end* r = NewEnd(std::move(pipe->reader));
    tubo_end* w = new (std::nothrow) tubo_end{std::move(pipe->writer)};
    if (w == nullptr) {
      delete r;
      throw std::bad_alloc();
    }
    *out_reader = r;
    *out_writer = w;
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_duplex_pipe_new(tubo_end** out_first, tubo_end** out_second,
                                     tubo_error** err) {
  return Guard(err, "tubo_duplex_pipe_new", [&] {
    if (out_first == nullptr) return Null(err, "tubo_duplex_pipe_new", "out_first");
    if (out_second == nullptr) return Null(err, "tubo_duplex_pipe_new", "out_second");
    absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
    if (!pipe.ok()) return FromStatus(err, pipe.status());
    tubo_end* a = NewEnd(std::move(pipe->first));
    tubo_end* b = new (std::nothrow) tubo_end{std::move(pipe->second)};
    if (b == nullptr) {
      delete a;
      throw std::bad_alloc();
    }
    *out_first = a;
    *out_second = b;
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_end_adopt_fd(tubo_end** out, int fd, int kind, tubo_error** err) {
  tubo::OwnedFd owned = tubo::OwnedFd::Adopt(fd);  // consumed from here on
  return Guard(err, "tubo_end_adopt_fd", [&] {
    if (out == nullptr) return Null(err, "tubo_end_adopt_fd", "out");
    if (fd < 0) return Fail(err, TUBO_E_INVALID_ARGUMENT, "tubo_end_adopt_fd: fd is negative");
    switch (kind) {
      case TUBO_END_READ: *out = NewEnd(tubo::ReadEnd(std::move(owned))); break;
      case TUBO_END_WRITE: *out = NewEnd(tubo::WriteEnd(std::move(owned))); break;
      case TUBO_END_DUPLEX: *out = NewEnd(tubo::DuplexEnd(std::move(owned))); break;
      default:
        return Fail(err, TUBO_E_INVALID_ARGUMENT,
                    "tubo_end_adopt_fd: kind " + std::to_string(kind) + " is not a tubo_end_kind");
    }
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_end_free(tubo_end* end) {
  try {
    delete end;
  } catch (...) {
  }
}

TUBO_EXPORT int tubo_end_kind_of(const tubo_end* end) {
  if (end == nullptr) return 0;
  return static_cast<int>(end->v.index()) + 1;
}

TUBO_EXPORT int tubo_end_fd(const tubo_end* end) {
  if (end == nullptr) return -1;
  return std::visit([](const auto& e) { return e.fd().get(); }, end->v);
}

TUBO_EXPORT int tubo_end_release_fd(int* out, tubo_end* end, tubo_error** err) {
  return Guard(err, "tubo_end_release_fd", [&] {
    if (out == nullptr) return Null(err, "tubo_end_release_fd", "out");
    if (end == nullptr) return Null(err, "tubo_end_release_fd", "end");
    absl::StatusOr<tubo::OwnedFd> fd = std::visit([](auto& e) { return e.Release(); }, end->v);
    if (!fd.ok()) return FromStatus(err, fd.status());
    *out = fd->Release();
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_end_send(tubo_end* end, const void* data, size_t len, tubo_error** err) {
  return Guard(err, "tubo_end_send", [&] {
    if (data == nullptr && len != 0) return Null(err, "tubo_end_send", "data");
    return WithSender(end, err, "tubo_end_send", [&](auto& e) {
      return FromStatus(err, e.Send(std::string_view(static_cast<const char*>(data), len)));
    });
  });
}

TUBO_EXPORT int tubo_end_try_send(tubo_end* end, const void* data, size_t len,
                                  tubo_error** err) {
  return Guard(err, "tubo_end_try_send", [&] {
    if (data == nullptr && len != 0) return Null(err, "tubo_end_try_send", "data");
    return WithSender(end, err, "tubo_end_try_send", [&](auto& e) {
      absl::StatusOr<bool> accepted =
          e.TrySend(std::string_view(static_cast<const char*>(data), len));
      if (!accepted.ok()) return FromStatus(err, accepted.status());
      if (*accepted) return Ok(err);
      return Fail(err, TUBO_E_TIMEOUT,
                  "tubo_end_try_send on fd " + std::to_string(e.fd().get()) +
                      ": the send would block; nothing of the message was written");
    });
  });
}

TUBO_EXPORT int tubo_end_send_timeout(tubo_end* end, const void* data, size_t len,
                                      int64_t timeout_ms, tubo_error** err) {
  return Guard(err, "tubo_end_send_timeout", [&] {
    if (data == nullptr && len != 0) return Null(err, "tubo_end_send_timeout", "data");
    return WithSender(end, err, "tubo_end_send_timeout", [&](auto& e) {
      return FromStatus(
          err, e.SendFor(std::string_view(static_cast<const char*>(data), len), Ms(timeout_ms)));
    });
  });
}

namespace {

// tubo_end_recv and tubo_end_recv_timeout: `timeout` infinite is Recv.
int RecvBytes(tubo_bytes** out, tubo_end* end, absl::Duration timeout, tubo_error** err,
              const char* fn) {
  return Guard(err, fn, [&] {
    if (out == nullptr) return Null(err, fn, "out");
    return WithReceiver(end, err, fn, [&](auto& e) {
      absl::StatusOr<std::optional<tubo::Bytes>> m =
          timeout == absl::InfiniteDuration() ? e.Recv() : e.RecvFor(timeout);
      if (!m.ok()) return FromStatus(err, m.status());
      if (!*m) {
        *out = nullptr;
        if (err != nullptr) *err = nullptr;
        return static_cast<int>(TUBO_EOF);
      }
      auto* b = static_cast<tubo_bytes*>(std::malloc(sizeof(tubo_bytes)));
      if (b == nullptr) throw std::bad_alloc();
      b->len = (*m)->size();
      b->data = reinterpret_cast<const uint8_t*>((*m)->Release());
      *out = b;
      return Ok(err);
    });
  });
}

// tubo_end_recv_into and tubo_end_recv_into_timeout.
int RecvInto(size_t* out_len, tubo_end* end, void* buf, size_t cap, absl::Duration timeout,
             tubo_error** err, const char* fn) {
  return Guard(err, fn, [&] {
    if (out_len == nullptr) return Null(err, fn, "out_len");
    if (buf == nullptr && cap != 0) return Null(err, fn, "buf");
    return WithReceiver(end, err, fn, [&](auto& e) {
      absl::StatusOr<tubo::RecvResult> r = timeout == absl::InfiniteDuration()
                                               ? e.RecvInto(buf, cap)
                                               : e.RecvIntoFor(buf, cap, timeout);
      if (!r.ok()) return FromStatus(err, r.status());
      *out_len = r->size;
      if (r->eof()) {
        if (err != nullptr) *err = nullptr;
        return static_cast<int>(TUBO_EOF);
      }
      if (r->too_small()) {
        return Fail(err, TUBO_E_BUFFER_TOO_SMALL,
                    std::string(fn) + " on fd " + std::to_string(e.fd().get()) +
                        ": the next message needs " + std::to_string(r->size) +
                        " bytes, the buffer holds " + std::to_string(cap));
      }
      return Ok(err);
    });
  });
}

}  // namespace

TUBO_EXPORT int tubo_end_recv(tubo_bytes** out, tubo_end* end, tubo_error** err) {
  return RecvBytes(out, end, absl::InfiniteDuration(), err, "tubo_end_recv");
}

TUBO_EXPORT int tubo_end_recv_timeout(tubo_bytes** out, tubo_end* end, int64_t timeout_ms,
                                      tubo_error** err) {
  return RecvBytes(out, end, Ms(timeout_ms), err, "tubo_end_recv_timeout");
}

TUBO_EXPORT int tubo_end_recv_into(size_t* out_len, tubo_end* end, void* buf, size_t cap,
                                   tubo_error** err) {
  return RecvInto(out_len, end, buf, cap, absl::InfiniteDuration(), err, "tubo_end_recv_into");
}

TUBO_EXPORT int tubo_end_recv_into_timeout(size_t* out_len, tubo_end* end, void* buf,
                                           size_t cap, int64_t timeout_ms, tubo_error** err) {
  return RecvInto(out_len, end, buf, cap, Ms(timeout_ms), err, "tubo_end_recv_into_timeout");
}

TUBO_EXPORT int tubo_end_poll(int* out, tubo_end* end, int64_t timeout_ms, tubo_error** err) {
  return Guard(err, "tubo_end_poll", [&] {
    if (out == nullptr) return Null(err, "tubo_end_poll", "out");
    return WithReceiver(end, err, "tubo_end_poll", [&](auto& e) {
      absl::StatusOr<bool> ready = e.Poll(Ms(timeout_ms));
      if (!ready.ok()) return FromStatus(err, ready.status());
      *out = *ready ? 1 : 0;
      return Ok(err);
    });
  });
}

TUBO_EXPORT int tubo_end_close(tubo_end* end, tubo_error** err) {
  return Guard(err, "tubo_end_close", [&] {
    if (end == nullptr) return Null(err, "tubo_end_close", "end");
    return FromStatus(err, std::visit([](auto& e) { return e.Close(); }, end->v));
  });
}

TUBO_EXPORT int tubo_end_close_write(tubo_end* end, tubo_error** err) {
  return Guard(err, "tubo_end_close_write", [&] {
    if (end == nullptr) return Null(err, "tubo_end_close_write", "end");
    auto* d = std::get_if<tubo::DuplexEnd>(&end->v);
    if (d == nullptr) return WrongKind(err, "tubo_end_close_write", "a duplex end");
    return FromStatus(err, d->CloseWrite());
  });
}

TUBO_EXPORT int tubo_end_set_max_message_size(tubo_end* end, uint64_t max, tubo_error** err) {
  return Guard(err, "tubo_end_set_max_message_size", [&] {
    return WithReceiver(end, err, "tubo_end_set_max_message_size", [&](auto& e) {
      e.set_max_message_size(max);
      return Ok(err);
    });
  });
}

TUBO_EXPORT uint64_t tubo_end_max_message_size(const tubo_end* end) {
  if (end == nullptr) return 0;
  if (auto* r = std::get_if<tubo::ReadEnd>(&end->v)) return r->max_message_size();
  if (auto* d = std::get_if<tubo::DuplexEnd>(&end->v)) return d->max_message_size();
  return 0;
}

TUBO_EXPORT int tubo_end_set_send_buffer_size(tubo_end* end, size_t capacity, tubo_error** err) {
  return Guard(err, "tubo_end_set_send_buffer_size", [&] {
    return WithSender(end, err, "tubo_end_set_send_buffer_size",
                      [&](auto& e) { return FromStatus(err, e.SetSendBufferSize(capacity)); });
  });
}

TUBO_EXPORT size_t tubo_end_send_buffer_size(const tubo_end* end) {
  if (end == nullptr) return 0;
  if (auto* w = std::get_if<tubo::WriteEnd>(&end->v)) return w->send_buffer_size();
  if (auto* d = std::get_if<tubo::DuplexEnd>(&end->v)) return d->send_buffer_size();
  return 0;
}

TUBO_EXPORT int tubo_end_flush(tubo_end* end, tubo_error** err) {
  return Guard(err, "tubo_end_flush", [&] {
    return WithSender(end, err, "tubo_end_flush",
                      [&](auto& e) { return FromStatus(err, e.Flush()); });
  });
}

TUBO_EXPORT int tubo_end_flush_timeout(tubo_end* end, int64_t timeout_ms, tubo_error** err) {
  return Guard(err, "tubo_end_flush_timeout", [&] {
    return WithSender(end, err, "tubo_end_flush_timeout",
                      [&](auto& e) { return FromStatus(err, e.FlushFor(Ms(timeout_ms))); });
  });
}

TUBO_EXPORT size_t tubo_end_unsent_bytes(const tubo_end* end) {
  if (end == nullptr) return 0;
  if (auto* w = std::get_if<tubo::WriteEnd>(&end->v)) return w->unsent_bytes();
  if (auto* d = std::get_if<tubo::DuplexEnd>(&end->v)) return d->unsent_bytes();
  return 0;
}

// --------------------------------------------------------------- channels

namespace {

template <typename Take>
int TakeChannel(tubo_end** out, const char* name, tubo_error** err, const char* fn, Take take) {
  return Guard(err, fn, [&] {
    if (out == nullptr) return Null(err, fn, "out");
    if (name == nullptr) return Null(err, fn, "name");
    auto end = take(name);
    if (!end.ok()) return FromStatus(err, end.status());
    *out = NewEnd(std::move(*end));
    return Ok(err);
  });
}

}  // namespace

TUBO_EXPORT int tubo_channel_take_read_end(tubo_end** out, const char* name, tubo_error** err) {
  return TakeChannel(out, name, err, "tubo_channel_take_read_end",
                     [](const char* n) { return tubo::TakeReadEnd(n); });
}

TUBO_EXPORT int tubo_channel_take_write_end(tubo_end** out, const char* name, tubo_error** err) {
  return TakeChannel(out, name, err, "tubo_channel_take_write_end",
                     [](const char* n) { return tubo::TakeWriteEnd(n); });
}

TUBO_EXPORT int tubo_channel_take_duplex_end(tubo_end** out, const char* name, tubo_error** err) {
  return TakeChannel(out, name, err, "tubo_channel_take_duplex_end",
                     [](const char* n) { return tubo::TakeDuplexEnd(n); });
}

// ---------------------------------------------------------------- command

TUBO_EXPORT int tubo_command_new(tubo_command** out, const char* program, tubo_error** err) {
  return Guard(err, "tubo_command_new", [&] {
    if (out == nullptr) return Null(err, "tubo_command_new", "out");
    if (program == nullptr) return Null(err, "tubo_command_new", "program");
    *out = new tubo_command{tubo::Command(program)};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_new_self(tubo_command** out, const char* entry, tubo_error** err) {
  return Guard(err, "tubo_command_new_self", [&] {
    if (out == nullptr) return Null(err, "tubo_command_new_self", "out");
    if (entry == nullptr) return Null(err, "tubo_command_new_self", "entry");
    *out = new tubo_command{tubo::Command::Self(entry)};
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_command_free(tubo_command* command) {
  try {
    delete command;
  } catch (...) {
  }
}

namespace {

template <typename F>
int CommandCall(tubo_command* command, tubo_error** err, const char* fn, F&& f) {
  return Guard(err, fn, [&] {
    if (command == nullptr) return Null(err, fn, "command");
    return f(command->cmd);
  });
}

}  // namespace

#define TUBO_REQUIRE(ptr, fn) \
  if ((ptr) == nullptr) return Null(err, fn, #ptr)

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

TUBO_EXPORT int tubo_command_env_unset(tubo_command* command, const char* name,
                                       tubo_error** err) {
  return CommandCall(command, err, "tubo_command_env_unset", [&](tubo::Command& c) {
    TUBO_REQUIRE(name, "tubo_command_env_unset");
    c.UnsetEnv(name);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_working_directory(tubo_command* command, const char* dir, tubo_error** err) {
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

TUBO_EXPORT int tubo_command_new_process_group(tubo_command* command, int lead,
                                               tubo_error** err) {
  return CommandCall(command, err, "tubo_command_new_process_group", [&](tubo::Command& c) {
    c.NewProcessGroup(lead != 0);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_inherit(tubo_command* command, int stream, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_stdio_inherit", [&](tubo::Command& c) {
    if (!ValidStream(stream)) return BadStream(err, "tubo_command_stdio_inherit", stream);
    SetStdio(c, stream, tubo::Stdio::Inherit());
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_null(tubo_command* command, int stream, tubo_error** err) {
  return CommandCall(command, err, "tubo_command_stdio_null", [&](tubo::Command& c) {
    if (!ValidStream(stream)) return BadStream(err, "tubo_command_stdio_null", stream);
    SetStdio(c, stream, tubo::Stdio::Null());
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_path(tubo_command* command, int stream, const char* path,
                                        tubo_error** err) {
  return CommandCall(command, err, "tubo_command_stdio_path", [&](tubo::Command& c) {
    if (!ValidStream(stream)) return BadStream(err, "tubo_command_stdio_path", stream);
    TUBO_REQUIRE(path, "tubo_command_stdio_path");
    SetStdio(c, stream, tubo::Stdio::Path(path));
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_fd(tubo_command* command, int stream, int fd,
                                      tubo_error** err) {
  tubo::OwnedFd owned = tubo::OwnedFd::Adopt(fd);  // consumed from here on
  return CommandCall(command, err, "tubo_command_stdio_fd", [&](tubo::Command& c) {
    if (!ValidStream(stream)) return BadStream(err, "tubo_command_stdio_fd", stream);
    if (fd < 0) return Fail(err, TUBO_E_INVALID_ARGUMENT, "tubo_command_stdio_fd: fd is negative");
    SetStdio(c, stream, tubo::Stdio::Fd(std::move(owned)));
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_command_stdio_end(tubo_command* command, int stream, tubo_end* end,
                                       tubo_error** err) {
  std::unique_ptr<tubo_end> owned(end);  // consumed from here on
  return CommandCall(command, err, "tubo_command_stdio_end", [&](tubo::Command& c) {
    if (!ValidStream(stream)) return BadStream(err, "tubo_command_stdio_end", stream);
    TUBO_REQUIRE(end, "tubo_command_stdio_end");
    std::visit([&](auto& e) { SetStdio(c, stream, tubo::Stdio::End(std::move(e))); }, owned->v);
    return Ok(err);
  });
}

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

// ---------------------------------------------------------------- entries

TUBO_EXPORT int tubo_entry_register(const char* name, tubo_entry_fn fn, tubo_error** err) {
  return Guard(err, "tubo_entry_register", [&] {
    TUBO_REQUIRE(name, "tubo_entry_register");
    TUBO_REQUIRE(fn, "tubo_entry_register");
    if (!tubo::internal::RegisterContextEntry(name, &CEntryTrampoline,
                                              reinterpret_cast<void*>(fn))) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  std::string("tubo_entry_register: \"") + name +
                      "\" is taken or not a valid name ([A-Za-z0-9_.-]{1,64})");
    }
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_run_entry_if_requested(int argc, char** argv) {
  if (argv == nullptr) return;
  tubo::RunEntryIfRequested(argc, argv);
}

// ------------------------------------------------------------------- fork

TUBO_EXPORT int tubo_fork(tubo_process** out, tubo_fork_fn fn, void* ctx, tubo_end** ends,
                          size_t n_ends, unsigned flags, tubo_error** err) {
  // Every end is consumed: freed in the parent when this returns.
  std::vector<std::unique_ptr<tubo_end>> owned;
  bool null_end = false;
  if (ends != nullptr) {
    for (size_t i = 0; i < n_ends; ++i) {
      try {
        owned.emplace_back(ends[i]);
      } catch (...) {
        for (size_t j = i; j < n_ends; ++j) delete ends[j];
        return Fail(err, TUBO_E_NO_MEMORY, "tubo_fork: out of memory");
      }
      if (ends[i] == nullptr) null_end = true;
    }
  }
  return Guard(err, "tubo_fork", [&] {
    TUBO_REQUIRE(out, "tubo_fork");
    TUBO_REQUIRE(fn, "tubo_fork");
    if (ends == nullptr && n_ends != 0) return Null(err, "tubo_fork", "ends");
    if (null_end) return Fail(err, TUBO_E_INVALID_ARGUMENT, "tubo_fork: an entry of ends is NULL");
    if ((flags & ~(TUBO_FORK_ALLOW_THREADS | TUBO_FORK_OUTLIVE_PARENT |
                   TUBO_FORK_NEW_PROCESS_GROUP)) != 0) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  "tubo_fork: unknown flags " + std::to_string(flags));
    }
    std::vector<int> keep;
    std::vector<tubo_end*> raw;
    for (auto& e : owned) {
      absl::Status prepared =
          std::visit([](auto& x) { return tubo::internal::PrepareForChild(x); }, e->v);
      if (!prepared.ok()) return FromStatus(err, tubo::internal::ForkPrepareError(prepared));
      keep.push_back(tubo_end_fd(e.get()));
      raw.push_back(e.get());
    }
    tubo::ForkOptions options;
    options.allow_threads = (flags & TUBO_FORK_ALLOW_THREADS) != 0;
    options.die_with_parent = (flags & TUBO_FORK_OUTLIVE_PARENT) == 0;
    options.new_process_group = (flags & TUBO_FORK_NEW_PROCESS_GROUP) != 0;
    absl::StatusOr<tubo::Process> p = tubo::internal::ForkChild(options, keep, [&]() -> int {
      int code = fn(ctx, raw.empty() ? nullptr : raw.data(), raw.size());
      // Flush what the function left buffered, as the C++ ends' destructors do.
      for (tubo_end* e : raw) std::visit([](auto& x) { x.Close().IgnoreError(); }, e->v);
      return code;
    });
    if (!p.ok()) return FromStatus(err, p.status());
    *out = new tubo_process{std::move(*p)};
    return Ok(err);
  });
}

// -------------------------------------------------------------- processes

TUBO_EXPORT void tubo_process_free(tubo_process* process) {
  try {
    delete process;
  } catch (...) {
  }
}

TUBO_EXPORT int tubo_process_pid(const tubo_process* process) {
  return process == nullptr ? -1 : static_cast<int>(process->p.pid());
}

TUBO_EXPORT int tubo_process_wait(int* out, tubo_process* process, tubo_error** err) {
  return Guard(err, "tubo_process_wait", [&] {
    TUBO_REQUIRE(process, "tubo_process_wait");
    absl::StatusOr<tubo::ExitStatus> st = process->p.Wait();
    if (!st.ok()) return FromStatus(err, st.status());
    if (out != nullptr) *out = st->returncode();
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_process_wait_timeout(int* out, tubo_process* process, int64_t timeout_ms,
                                          tubo_error** err) {
  return Guard(err, "tubo_process_wait_timeout", [&] {
    TUBO_REQUIRE(process, "tubo_process_wait_timeout");
    auto st = process->p.WaitFor(Ms(timeout_ms));
    if (!st.ok()) return FromStatus(err, st.status());
    return WaitResult(out, process, *st, err);
  });
}

TUBO_EXPORT int tubo_process_try_wait(int* out, tubo_process* process, tubo_error** err) {
  return Guard(err, "tubo_process_try_wait", [&] {
    TUBO_REQUIRE(process, "tubo_process_try_wait");
    auto st = process->p.TryWait();
    if (!st.ok()) return FromStatus(err, st.status());
    return WaitResult(out, process, *st, err);
  });
}

TUBO_EXPORT int tubo_process_signal(tubo_process* process, int signo, tubo_error** err) {
  return Guard(err, "tubo_process_signal", [&] {
    TUBO_REQUIRE(process, "tubo_process_signal");
    return FromStatus(err, process->p.Signal(signo));
  });
}

TUBO_EXPORT int tubo_process_terminate(tubo_process* process, tubo_error** err) {
  return Guard(err, "tubo_process_terminate", [&] {
    TUBO_REQUIRE(process, "tubo_process_terminate");
    return FromStatus(err, process->p.Terminate());
  });
}

TUBO_EXPORT int tubo_process_kill(tubo_process* process, tubo_error** err) {
  return Guard(err, "tubo_process_kill", [&] {
    TUBO_REQUIRE(process, "tubo_process_kill");
    return FromStatus(err, process->p.Kill());
  });
}

TUBO_EXPORT int tubo_process_detach(tubo_process* process, tubo_error** err) {
  return Guard(err, "tubo_process_detach", [&] {
    TUBO_REQUIRE(process, "tubo_process_detach");
    return FromStatus(err, process->p.Detach());
  });
}

TUBO_EXPORT int tubo_process_signal_group(tubo_process* process, int signo, tubo_error** err) {
  return Guard(err, "tubo_process_signal_group", [&] {
    TUBO_REQUIRE(process, "tubo_process_signal_group");
    return FromStatus(err, process->p.SignalGroup(signo));
  });
}

TUBO_EXPORT int tubo_process_leads_group(const tubo_process* process) {
  return process != nullptr && process->p.leads_group() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_set_stop_grace(tubo_process* process, int64_t grace_ms,
                                            tubo_error** err) {
  return Guard(err, "tubo_process_set_stop_grace", [&] {
    TUBO_REQUIRE(process, "tubo_process_set_stop_grace");
    tubo::StopSequence s = process->p.stop_sequence();
    s.grace = Ms(grace_ms);
    process->p.set_stop_sequence(s);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_process_set_stop_signal(tubo_process* process, int signo,
                                             tubo_error** err) {
  return Guard(err, "tubo_process_set_stop_signal", [&] {
    TUBO_REQUIRE(process, "tubo_process_set_stop_signal");
    if (signo < 0 || signo > 64) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  "tubo_process_set_stop_signal: bad signal " + std::to_string(signo));
    }
    tubo::StopSequence s = process->p.stop_sequence();
    s.signal = signo;
    process->p.set_stop_sequence(s);
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_process_set_stop_timeout(tubo_process* process, int64_t timeout_ms,
                                              tubo_error** err) {
  return Guard(err, "tubo_process_set_stop_timeout", [&] {
    TUBO_REQUIRE(process, "tubo_process_set_stop_timeout");
    tubo::StopSequence s = process->p.stop_sequence();
    s.signal_timeout = Ms(timeout_ms);
    process->p.set_stop_sequence(s);
    return Ok(err);
  });
}

namespace {
std::optional<tubo::ExitStatus> StatusOf(const tubo_process* process) {
  if (process == nullptr) return std::nullopt;
  return process->p.exit_status();
}
}  // namespace

TUBO_EXPORT int tubo_process_reaped(const tubo_process* process) {
  return StatusOf(process).has_value() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_exited(const tubo_process* process) {
  auto s = StatusOf(process);
  return s && s->exited() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_exit_code(const tubo_process* process) {
  auto s = StatusOf(process);
  return s ? s->exit_code() : -1;
}

TUBO_EXPORT int tubo_process_signaled(const tubo_process* process) {
  auto s = StatusOf(process);
  return s && s->signaled() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_term_signal(const tubo_process* process) {
  auto s = StatusOf(process);
  return s ? s->signal() : 0;
}

TUBO_EXPORT int tubo_process_core_dumped(const tubo_process* process) {
  auto s = StatusOf(process);
  return s && s->core_dumped() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_returncode(const tubo_process* process) {
  auto s = StatusOf(process);
  return s ? s->returncode() : 0;
}

// --------------------------------------------------------------- wait set

TUBO_EXPORT int tubo_wait_set_new(tubo_wait_set** out, tubo_error** err) {
  return Guard(err, "tubo_wait_set_new", [&] {
    TUBO_REQUIRE(out, "tubo_wait_set_new");
    absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
    if (!set.ok()) return FromStatus(err, set.status());
    *out = new tubo_wait_set{std::move(*set)};
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_wait_set_free(tubo_wait_set* set) { delete set; }

TUBO_EXPORT int tubo_wait_set_add_end(tubo_wait_set* set, tubo_end* end, uint64_t key,
                                      tubo_error** err) {
  return Guard(err, "tubo_wait_set_add_end", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_add_end");
    return WithReceiver(end, err, "tubo_wait_set_add_end",
                        [&](auto& e) { return FromStatus(err, set->set.Add(e, key)); });
  });
}

TUBO_EXPORT int tubo_wait_set_add_end_writable(tubo_wait_set* set, tubo_end* end, uint64_t key,
                                               tubo_error** err) {
  return Guard(err, "tubo_wait_set_add_end_writable", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_add_end_writable");
    if (end == nullptr) return Null(err, "tubo_wait_set_add_end_writable", "end");
    if (auto* w = std::get_if<tubo::WriteEnd>(&end->v)) return FromStatus(err, set->set.Add(*w, key));
    if (auto* d = std::get_if<tubo::DuplexEnd>(&end->v)) {
      return FromStatus(err, set->set.AddWritable(*d, key));
    }
    return WrongKind(err, "tubo_wait_set_add_end_writable", "a write or duplex end");
  });
}

TUBO_EXPORT int tubo_wait_set_add_process(tubo_wait_set* set, tubo_process* process,
                                          uint64_t key, tubo_error** err) {
  return Guard(err, "tubo_wait_set_add_process", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_add_process");
    TUBO_REQUIRE(process, "tubo_wait_set_add_process");
    return FromStatus(err, set->set.Add(process->p, key));
  });
}

TUBO_EXPORT int tubo_wait_set_remove(tubo_wait_set* set, uint64_t key, tubo_error** err) {
  return Guard(err, "tubo_wait_set_remove", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_remove");
    return FromStatus(err, set->set.Remove(key));
  });
}

TUBO_EXPORT size_t tubo_wait_set_size(const tubo_wait_set* set) {
  return set == nullptr ? 0 : set->set.size();
}

TUBO_EXPORT int tubo_wait_set_wait(size_t* out_count, tubo_wait_set* set, uint64_t* keys,
                                   size_t cap, int64_t timeout_ms, tubo_error** err) {
  return Guard(err, "tubo_wait_set_wait", [&] {
    TUBO_REQUIRE(out_count, "tubo_wait_set_wait");
    TUBO_REQUIRE(set, "tubo_wait_set_wait");
    if (keys == nullptr && cap != 0) return Null(err, "tubo_wait_set_wait", "keys");
    absl::StatusOr<std::vector<uint64_t>> ready = set->set.Wait(Ms(timeout_ms));
    if (!ready.ok()) return FromStatus(err, ready.status());
    size_t n = ready->size() < cap ? ready->size() : cap;
    for (size_t i = 0; i < n; ++i) keys[i] = (*ready)[i];
    *out_count = n;
    return Ok(err);
  });
}
