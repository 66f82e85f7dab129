// capi/tubo_end.h: pipes and ends.
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

namespace {

// Stores the two ends of a new pipe in `*out_a` and `*out_b`, or neither.
template <typename A, typename B>
int StorePair(A a, B b, tubo_end** out_a, tubo_end** out_b, tubo_error** err) {
  tubo_end* first = NewEnd(std::move(a));
  tubo_end* second = new (std::nothrow) tubo_end{std::move(b)};
  if (second == nullptr) {
    delete first;
    throw std::bad_alloc();
  }
  *out_a = first;
  *out_b = second;
  return Ok(err);
}

// The send calls: checks `data`, then calls `f` with the end's sending
// alternative and the message.
template <typename F>
int SendCall(tubo_end* end, const void* data, size_t len, tubo_error** err, const char* fn, F&& f) {
  return Guard(err, fn, [&] {
    if (data == nullptr && len != 0) return Null(err, fn, "data");
    return WithSender(end, err, fn, [&](auto& e) {
      return f(e, std::string_view(static_cast<const char*>(data), len));
    });
  });
}

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
        return Eof(err);
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
      if (r->eof()) return Eof(err);
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

// The getters of a receiving (sending) end: 0 for NULL or the other kind.
template <typename F>
auto ReadReceiver(const tubo_end* end, F&& f) {
  return ReadEither<tubo::ReadEnd, tubo::DuplexEnd>(end, std::forward<F>(f));
}

template <typename F>
auto ReadSender(const tubo_end* end, F&& f) {
  return ReadEither<tubo::WriteEnd, tubo::DuplexEnd>(end, std::forward<F>(f));
}

}  // namespace

// ------------------------------------------------------------------ pipes

TUBO_EXPORT int tubo_pipe_new(tubo_end** out_reader, tubo_end** out_writer, tubo_error** err) {
  return Guard(err, "tubo_pipe_new", [&] {
    if (out_reader == nullptr) return Null(err, "tubo_pipe_new", "out_reader");
    if (out_writer == nullptr) return Null(err, "tubo_pipe_new", "out_writer");
    absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
    if (!pipe.ok()) return FromStatus(err, pipe.status());
    return StorePair(std::move(pipe->reader), std::move(pipe->writer), out_reader, out_writer, err);
  });
}

TUBO_EXPORT int tubo_duplex_pipe_new(tubo_end** out_first, tubo_end** out_second,
                                     tubo_error** err) {
  return Guard(err, "tubo_duplex_pipe_new", [&] {
    if (out_first == nullptr) return Null(err, "tubo_duplex_pipe_new", "out_first");
    if (out_second == nullptr) return Null(err, "tubo_duplex_pipe_new", "out_second");
    absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
    if (!pipe.ok()) return FromStatus(err, pipe.status());
    return StorePair(std::move(pipe->first), std::move(pipe->second), out_first, out_second, err);
  });
}

// ------------------------------------------------------------------- ends

TUBO_EXPORT int tubo_end_adopt_fd(tubo_end** out, int fd, int kind, tubo_error** err) {
  tubo::OwnedFd owned = tubo::OwnedFd::Adopt(fd);  // consumed from here on
  return Guard(err, "tubo_end_adopt_fd", [&] {
    if (out == nullptr) return Null(err, "tubo_end_adopt_fd", "out");
    if (fd < 0) return Fail(err, TUBO_E_INVALID_ARGUMENT, "tubo_end_adopt_fd: fd is negative");
    switch (kind) {
      case TUBO_END_READ:
        *out = NewEnd(tubo::ReadEnd(std::move(owned)));
        break;
      case TUBO_END_WRITE:
        *out = NewEnd(tubo::WriteEnd(std::move(owned)));
        break;
      case TUBO_END_DUPLEX:
        *out = NewEnd(tubo::DuplexEnd(std::move(owned)));
        break;
      default:
        return Fail(err, TUBO_E_INVALID_ARGUMENT,
                    "tubo_end_adopt_fd: kind " + std::to_string(kind) + " is not a tubo_end_kind");
    }
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_end_free(tubo_end* end) { DeleteQuietly(end); }

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

// ---------------------------------------------------------------- sending

TUBO_EXPORT int tubo_end_send(tubo_end* end, const void* data, size_t len, tubo_error** err) {
  return SendCall(end, data, len, err, "tubo_end_send",
                  [&](auto& e, std::string_view m) { return FromStatus(err, e.Send(m)); });
}

TUBO_EXPORT int tubo_end_try_send(tubo_end* end, const void* data, size_t len, tubo_error** err) {
  return SendCall(end, data, len, err, "tubo_end_try_send", [&](auto& e, std::string_view m) {
    absl::StatusOr<bool> accepted = e.TrySend(m);
    if (!accepted.ok()) return FromStatus(err, accepted.status());
    if (*accepted) return Ok(err);
    return Fail(err, TUBO_E_TIMEOUT,
                "tubo_end_try_send on fd " + std::to_string(e.fd().get()) +
                    ": the send would block; nothing of the message was written");
  });
}

TUBO_EXPORT int tubo_end_send_timeout(tubo_end* end, const void* data, size_t len,
                                      int64_t timeout_ms, tubo_error** err) {
  return SendCall(end, data, len, err, "tubo_end_send_timeout", [&](auto& e, std::string_view m) {
    return FromStatus(err, e.SendFor(m, Ms(timeout_ms)));
  });
}

// -------------------------------------------------------------- receiving

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

TUBO_EXPORT int tubo_end_recv_into_timeout(size_t* out_len, tubo_end* end, void* buf, size_t cap,
                                           int64_t timeout_ms, tubo_error** err) {
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

// ---------------------------------------------------------------- closing

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

// --------------------------------------------------------------- settings

TUBO_EXPORT int tubo_end_set_max_message_size(tubo_end* end, uint64_t max, tubo_error** err) {
  return Guard(err, "tubo_end_set_max_message_size", [&] {
    return WithReceiver(end, err, "tubo_end_set_max_message_size", [&](auto& e) {
      e.set_max_message_size(max);
      return Ok(err);
    });
  });
}

TUBO_EXPORT uint64_t tubo_end_max_message_size(const tubo_end* end) {
  return ReadReceiver(end, [](const auto& e) -> uint64_t { return e.max_message_size(); });
}

TUBO_EXPORT int tubo_end_set_send_buffer_size(tubo_end* end, size_t capacity, tubo_error** err) {
  return Guard(err, "tubo_end_set_send_buffer_size", [&] {
    return WithSender(end, err, "tubo_end_set_send_buffer_size",
                      [&](auto& e) { return FromStatus(err, e.SetSendBufferSize(capacity)); });
  });
}

TUBO_EXPORT size_t tubo_end_send_buffer_size(const tubo_end* end) {
  return ReadSender(end, [](const auto& e) -> size_t { return e.send_buffer_size(); });
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
  return ReadSender(end, [](const auto& e) -> size_t { return e.unsent_bytes(); });
}
