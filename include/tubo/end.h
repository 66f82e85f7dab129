/// @file
/// @brief Pipe ends that carry length-delimited byte messages.
///
/// `ReadEnd` receives, `WriteEnd` sends, `DuplexEnd` does both and can
/// half-close. Each owns its descriptor (move-only, closed exactly once) and
/// speaks contract 1, the framing of CPython's
/// `multiprocessing.connection.Connection`, so a Python program can be the
/// peer with nothing but the standard library.
///
/// @code
///   absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
///   auto& [reader, writer] = *pipe;
///   writer.Send("hello").IgnoreError();
///   writer.Close().IgnoreError();          // the reader sees EOF next
///   while (true) {
///     absl::StatusOr<std::optional<tubo::Bytes>> m = reader.Recv();
///     if (!m.ok()) return m.status();      // truncated, bad length, ...
///     if (!*m) break;                      // end of stream: not an error
///     Use((*m)->view());
///   }
/// @endcode
///
/// **End of stream** is a distinct, non-error outcome of every receive call. It
/// happens when the last write end (in every process) is closed, and only then.
/// End of stream inside a frame is a truncated-message error
/// (`Error::kTruncated`), a negative length other than -1 is `Error::kBadLength`,
/// and a length above the end's maximum is `Error::kTooLarge`, reported before
/// anything is allocated. After any of these the stream cannot be
/// resynchronised and every later receive call on the end returns the same error.
///
/// **Deadlines**: `RecvFor` and `RecvIntoFor` give up when their timeout
/// passes, wherever they are in a frame, and lose nothing: the end keeps the
/// part of the message that arrived, and the next receive call continues it.
/// A program can so stay responsive (signals, cancellation, other work) while
/// a peer is slow or stalls in the middle of a message.
///
/// **Writing to an end whose readers are gone** returns an error
/// (`Error::kPeerClosed`) and never kills the process with SIGPIPE. tubo
/// installs no signal handler for this: sockets are written with
/// `MSG_NOSIGNAL`, and for pipes SIGPIPE is blocked in the calling thread only
/// for the duration of the write, the signal the write raised is consumed, and
/// the thread's mask is restored; a program that ignores SIGPIPE can say so
/// (`DeclareSigpipeIgnored`, tubo/sigpipe.h) and save those system calls.
///
/// **Sending without blocking.** `Send` blocks until its message is written.
/// `TrySend` never blocks and `SendFor` blocks at most for its timeout; both
/// keep one rule, so that a frame is never left torn on the wire: a message is
/// either *not accepted* (nothing of it was written; `TrySend` returns false,
/// `SendFor` fails with `Error::kTimeout`) and the caller may offer the same
/// message again, or *accepted*: written whole, or *committed*: some of it was
/// written and the end keeps a copy of the rest (`unsent_bytes()`), which goes
/// out before anything else on the next `TrySend`, `SendFor`, `Send`, `Flush`,
/// `FlushFor`, `Close` or destruction. A `TrySend`/`SendFor` first tries to
/// finish what the end still holds; if it cannot within its time, the new
/// message is not accepted. So one thread can feed many slow readers: wait
/// with a `WaitSet` for writability (`WaitSet::Add(WriteEnd&, key)`), then
/// `TrySend`, and repeat.
///
/// With a send buffer (`SetSendBufferSize`), `TrySend` and `SendFor` write
/// through: the buffered frames and the new message leave together, never
/// stay in the buffer; the buffered frames were accepted before, so they are
/// kept (as the committed rest) if they cannot all be written in time.
/// `Send` keeps buffering as before (after any committed rest).
///
/// **Pipe capacity.** A message of 64 KiB or more sent to a pipe enlarges the
/// pipe to 1 MiB (`F_SETPIPE_SZ`) while it is being sent, which about doubles
/// the throughput of large messages. tubo gives the capacity back (shrinks the
/// pipe to its previous size) as soon as the kernel lets it: right after the
/// message is written, else after the end's next write to the pipe (a send
/// that is not only buffered, a flush), else when the end is closed or
/// released. The kernel refuses while more is queued than the smaller size; a
/// pipe closed in that state keeps its capacity until its readers close it,
/// and an end that never writes again keeps it while it lives (within the
/// bound below). The whole process holds at most 1/8 of
/// `/proc/sys/fs/pipe-user-pages-soft` (read once; 2048 pages, 8 MiB, by
/// default) in pages added above pipes' previous sizes; past that, large
/// messages go through the pipe as it is. So the user's other pipes, in any
/// process, never fall back to 8 KiB because of tubo. Sockets are never
/// resized.
///
/// **Thread-safety**: an end may be moved to another thread, but must never be
/// used by two threads at once. Distinct ends are independent.
#ifndef TUBO_END_H_
#define TUBO_END_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tubo/bytes.h"
#include "tubo/fd.h"
#include "tubo/internal/frame_reader.h"
#include "tubo/internal/frame_writer.h"
#include "tubo/internal/watched_fd.h"
#include "tubo/recv_result.h"

namespace tubo {

class ReadEnd;
class WriteEnd;
class DuplexEnd;

namespace internal {

// What a WaitSet needs to know of an end beyond its descriptor, and nothing
// more: whether a receive, or a send, would answer at once without the
// kernel (read-ahead, a sticky error, a torn frame, a closed or shut end).
class EndReadiness {
 public:
  static bool RecvReady(const ReadEnd& end);
  static bool RecvReady(const DuplexEnd& end);
  static bool SendReady(const WriteEnd& end);
  static bool SendReady(const DuplexEnd& end);
  // True if the duplex end's write side was shut down (CloseWrite).
  static bool WriteShut(const DuplexEnd& end);
};

}  // namespace internal

/// The send buffer size `SetSendBufferSize` is usually given: 64 KiB, the
/// default capacity of a Linux pipe.
inline constexpr size_t kDefaultSendBufferSize = 64 * 1024;

/// @brief The receiving end of a simplex pipe (or any descriptor carrying
/// contract-1 frames from a peer).
class ReadEnd {
 public:
  /// A closed end.
  ReadEnd() = default;
  /// Takes ownership of `fd` and reads frames from it. The descriptor should
  /// be blocking; tubo does not change its flags.
  explicit ReadEnd(OwnedFd fd) : fd_(std::move(fd)) {}
  /// Moves the end; `other` becomes closed.
  ReadEnd(ReadEnd&& other) noexcept;
  /// Closes this end, then takes `other`'s; `other` becomes closed.
  ReadEnd& operator=(ReadEnd&& other) noexcept;

  /// Receives the next message into a new buffer. Blocks until a whole
  /// message or the end of the stream arrives.
  ///
  /// Returns the message, or `std::nullopt` at end of stream (a normal
  /// outcome; asking again returns `std::nullopt` again). Errors:
  /// `Error::kTruncated`, `Error::kBadLength`, `Error::kTooLarge` (sticky, see
  /// the file comment), `Error::kClosed` if this end is closed, `Error::kSystem`
  /// for a failed read, or (`ResourceExhausted`, sticky) when memory runs out
  /// for an accepted message. Memory grows with the bytes that arrive, not
  /// with what a header announces.
  absl::StatusOr<std::optional<Bytes>> Recv();

  /// Receives the next message into `buffer`, which has room for `capacity`
  /// bytes (`buffer` may be null if `capacity` is 0).
  ///
  /// Returns `RecvResult::Kind::kMessage` with the size stored, `kEof` at end
  /// of stream, or `kTooSmall` with the size needed when the next message does
  /// not fit: that message is then not consumed, and the next call (with a
  /// larger buffer, or `Recv`) returns it. Errors as for `Recv`.
  absl::StatusOr<RecvResult> RecvInto(void* buffer, size_t capacity);

  /// `Recv` that gives up when `timeout` passes, wherever it is in a frame.
  ///
  /// Returns as `Recv` does if a whole message (or the end of the stream)
  /// arrives in time. Otherwise fails with `Error::kTimeout`
  /// (`DeadlineExceeded`, the message naming the fd and how much of the frame
  /// arrived), which is not sticky: every byte read so far is kept by the end
  /// (a partial header, a partial payload), and the next receive call
  /// (`Recv`, `RecvFor`, `RecvInto`, `RecvIntoFor`) continues the same frame,
  /// with no byte lost or repeated. A zero (or negative) timeout takes only
  /// what has already arrived; `absl::InfiniteDuration()` is `Recv`. Memory
  /// grows with the bytes that arrive, as for `Recv`.
  ///
  /// The deadline is checked before every read: if another process reads the
  /// same descriptor between the readiness check and the read, the read may
  /// block past it.
  absl::StatusOr<std::optional<Bytes>> RecvFor(absl::Duration timeout);

  /// `RecvInto` that gives up when `timeout` passes, wherever it is in a
  /// frame: `Error::kTimeout` as for `RecvFor`, keeping every byte read (also
  /// the part of a payload already stored in `buffer`, which the end copies
  /// aside, so the next call may pass another buffer). `kTooSmall` and the
  /// other outcomes as for `RecvInto`.
  absl::StatusOr<RecvResult> RecvIntoFor(void* buffer, size_t capacity, absl::Duration timeout);

  /// Returns true if a receive call can make progress without waiting: a
  /// whole message is buffered, the header of a message whose size a
  /// too-small `RecvInto` reported is kept (`RecvInto` answers at once), the
  /// descriptor is readable, or the stream has ended. Part of a frame kept
  /// after a timeout does not count by itself: the rest has to arrive. Waits
  /// up to `timeout` (`absl::InfiniteDuration()` waits forever; the default
  /// only looks). A sticky framing error is returned as the error it is.
  absl::StatusOr<bool> Poll(absl::Duration timeout = absl::ZeroDuration());

  /// Closes the end now. Always succeeds; closing a closed end does nothing.
  absl::Status Close();

  /// Gives up the descriptor, which the caller then owns; the end becomes
  /// closed. Fails with `FailedPrecondition`, leaving the end as it was, if
  /// bytes were already read ahead from the descriptor (they would be lost),
  /// or with `Error::kClosed` if the end is closed.
  absl::StatusOr<OwnedFd> Release();

  /// The largest message this end accepts (default `kDefaultMaxMessageSize`).
  uint64_t max_message_size() const { return reader_.max_message_size(); }
  /// Sets the largest message this end accepts; a header announcing more is
  /// an `Error::kTooLarge` error (sticky) before anything is allocated. The
  /// new maximum also applies to a message whose header was already read
  /// (kept by a too-small `RecvInto` or a timed-out `RecvFor`): if it is
  /// longer, the next receive call fails with `Error::kTooLarge`.
  void set_max_message_size(uint64_t max) { reader_.set_max_message_size(max); }

  /// The descriptor, borrowed (-1 if closed).
  BorrowedFd fd() const { return fd_.Borrow(); }
  /// True unless the end is closed.
  bool is_open() const { return fd_.valid(); }

 private:
  friend class internal::EndReadiness;

  internal::WatchedFd fd_;
  internal::FrameReader reader_;
};

/// @brief The sending end of a simplex pipe (or any descriptor a peer reads
/// contract-1 frames from).
///
/// Unbuffered (the default), each `Send` writes its message with one system
/// call. With a send buffer (`SetSendBufferSize`), messages collect in user
/// space and leave when the buffer would overflow or on `Flush`; `Close` and
/// the destructor flush what is left, so nothing is silently dropped.
class WriteEnd {
 public:
  /// A closed end.
  WriteEnd() = default;
  /// Takes ownership of `fd` and writes frames to it. The descriptor should
  /// be blocking; tubo does not change its flags.
  explicit WriteEnd(OwnedFd fd) : fd_(std::move(fd)) {}
  /// Flushes buffered messages and a committed rest (ignoring errors; call
  /// `Close` to see them), then closes the descriptor. May block while the
  /// reader is slow.
  ~WriteEnd();
  /// Moves the end, buffered messages included; `other` becomes closed.
  WriteEnd(WriteEnd&& other) noexcept = default;
  /// Closes this end as `Close` does (ignoring errors), then takes `other`'s.
  WriteEnd& operator=(WriteEnd&& other) noexcept;

  /// Sends `message` (0 bytes up to 2^63-1) as one frame. Blocks until it is
  /// written (or buffered). The bytes are copied or written before it returns.
  ///
  /// Errors: `Error::kPeerClosed` if every reader is gone, `Error::kClosed` if
  /// this end is closed, `Error::kSystem` for other write failures. After a
  /// failure that left part of a frame written, every later call fails the same way.
  absl::Status Send(std::string_view message);

  /// Sends `message` as one frame without blocking (see the file comment on
  /// sending without blocking). First tries to finish a committed rest the end
  /// holds. Returns true if the message was accepted (written, or committed:
  /// the end holds its rest, `unsent_bytes() > 0`), false if nothing of it
  /// could be written now (not accepted: offer it again later). Errors as for
  /// `Send` (`Error::kPeerClosed` when the readers are gone, never SIGPIPE).
  absl::StatusOr<bool> TrySend(std::string_view message);

  /// Sends `message` as one frame, waiting at most `timeout` for room
  /// (`absl::InfiniteDuration()` is `Send`; zero or negative is `TrySend`).
  /// Returns OK if the message was accepted (written, or committed with its
  /// rest held by the end when the time ran out after part of it was
  /// written); fails with `Error::kTimeout` only when nothing of it was
  /// written (the caller may retry the same message). Other errors as for `Send`.
  absl::Status SendFor(std::string_view message, absl::Duration timeout);

  /// Writes out a committed rest and every buffered message, blocking until
  /// they are written. Errors as for `Send`.
  absl::Status Flush();

  /// Writes out what the end holds (a committed rest and the send buffer),
  /// waiting at most `timeout` for room (zero only tries). OK once nothing is
  /// left; `Error::kTimeout` if some is still held (progress is kept). Errors
  /// as for `Send`.
  absl::Status FlushFor(absl::Duration timeout);

  /// Bytes the end has accepted but not yet written: a committed rest plus
  /// the send buffer's frames.
  size_t unsent_bytes() const { return writer_.unsent(); }

  /// Sets the send buffer to `capacity` bytes; 0 (the default) makes every
  /// `Send` write at once. Buffered messages are flushed first if they would
  /// not fit the new capacity. Errors as for `Flush`.
  absl::Status SetSendBufferSize(size_t capacity);
  /// The send buffer capacity (0: unbuffered).
  size_t send_buffer_size() const { return writer_.buffer_size(); }

  /// Flushes, then closes the end; returns the flush error, if any (the end is
  /// closed either way). Closing a closed end does nothing and succeeds.
  absl::Status Close();

  /// Flushes, then gives up the descriptor, which the caller then owns; the
  /// end becomes closed. If the flush fails, returns its error and the end
  /// stays as it was. `Error::kClosed` if the end is closed.
  absl::StatusOr<OwnedFd> Release();

  /// The descriptor, borrowed (-1 if closed).
  BorrowedFd fd() const { return fd_.Borrow(); }
  /// True unless the end is closed.
  bool is_open() const { return fd_.valid(); }

 private:
  friend class internal::EndReadiness;

  internal::WatchedFd fd_;
  internal::FrameWriter writer_;
};

/// @brief One end of a duplex pipe: sends and receives over a connected
/// stream socket, like Python's `%Pipe(duplex=True)`.
///
/// It has the receive calls of `ReadEnd` and the send calls of `WriteEnd`,
/// with the same contracts, plus `CloseWrite` to half-close.
class DuplexEnd {
 public:
  /// A closed end.
  DuplexEnd() = default;
  /// Takes ownership of `fd`, a connected stream socket (or any descriptor
  /// open for reading and writing). The descriptor should be blocking.
  explicit DuplexEnd(OwnedFd fd) : fd_(std::move(fd)) {}
  /// Flushes buffered messages (ignoring errors), then closes the descriptor.
  ~DuplexEnd();
  /// Moves the end, buffered messages included; `other` becomes closed.
  DuplexEnd(DuplexEnd&& other) noexcept;
  /// Closes this end as `Close` does (ignoring errors), then takes `other`'s.
  DuplexEnd& operator=(DuplexEnd&& other) noexcept;

  /// Sends `message` as one frame. See `WriteEnd::Send`; also fails with
  /// `Error::kClosed` after `CloseWrite`.
  absl::Status Send(std::string_view message);
  /// Sends without blocking. See `WriteEnd::TrySend`; also fails with
  /// `Error::kClosed` after `CloseWrite`.
  absl::StatusOr<bool> TrySend(std::string_view message);
  /// Sends, waiting at most `timeout`. See `WriteEnd::SendFor`; also fails
  /// with `Error::kClosed` after `CloseWrite`.
  absl::Status SendFor(std::string_view message, absl::Duration timeout);
  /// Writes out every buffered message. See `WriteEnd::Flush`.
  absl::Status Flush();
  /// Writes out what the end holds, waiting at most `timeout`. See `WriteEnd::FlushFor`.
  absl::Status FlushFor(absl::Duration timeout);
  /// Bytes accepted but not yet written. See `WriteEnd::unsent_bytes`.
  size_t unsent_bytes() const { return writer_.unsent(); }
  /// Sets the send buffer size. See `WriteEnd::SetSendBufferSize`.
  absl::Status SetSendBufferSize(size_t capacity);
  /// The send buffer capacity (0: unbuffered).
  size_t send_buffer_size() const { return writer_.buffer_size(); }

  /// Receives the next message into a new buffer. See `ReadEnd::Recv`.
  absl::StatusOr<std::optional<Bytes>> Recv();
  /// Receives the next message into a caller's buffer. See `ReadEnd::RecvInto`.
  absl::StatusOr<RecvResult> RecvInto(void* buffer, size_t capacity);
  /// `Recv` with a deadline that never loses bytes. See `ReadEnd::RecvFor`.
  absl::StatusOr<std::optional<Bytes>> RecvFor(absl::Duration timeout);
  /// `RecvInto` with a deadline that never loses bytes. See `ReadEnd::RecvIntoFor`.
  absl::StatusOr<RecvResult> RecvIntoFor(void* buffer, size_t capacity, absl::Duration timeout);
  /// Waits up to `timeout` for something to receive. See `ReadEnd::Poll`.
  absl::StatusOr<bool> Poll(absl::Duration timeout = absl::ZeroDuration());

  /// Half-closes: flushes, then shuts down the sending direction, so the peer
  /// sees end of stream after the messages already sent, while this end can
  /// still receive its replies. Later sends fail with `Error::kClosed`.
  /// Calling it again does nothing. Errors: the flush error, `Error::kClosed`
  /// if the end is closed, `Error::kSystem` if `shutdown` fails.
  absl::Status CloseWrite();

  /// Flushes, then closes the end. See `WriteEnd::Close`.
  absl::Status Close();
  /// Flushes, then gives up the descriptor. Fails, leaving the end as it was,
  /// if the flush fails or bytes were already read ahead (see `ReadEnd::Release`).
  absl::StatusOr<OwnedFd> Release();

  /// The largest message this end accepts. See `ReadEnd::max_message_size`.
  uint64_t max_message_size() const { return reader_.max_message_size(); }
  /// Sets the largest message this end accepts. See `ReadEnd::set_max_message_size`.
  void set_max_message_size(uint64_t max) { reader_.set_max_message_size(max); }

  /// The descriptor, borrowed (-1 if closed).
  BorrowedFd fd() const { return fd_.Borrow(); }
  /// True unless the end is closed.
  bool is_open() const { return fd_.valid(); }

 private:
  friend class internal::EndReadiness;

  internal::WatchedFd fd_;
  internal::FrameReader reader_;
  internal::FrameWriter writer_;
  bool write_shut_ = false;
};

}  // namespace tubo

#endif  // TUBO_END_H_
