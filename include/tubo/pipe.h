/// @file
/// @brief Creating connected ends: simplex and duplex pipes.
///
/// Every descriptor is close-on-exec from the moment it exists (`pipe2` with
/// `O_CLOEXEC`, `socketpair` with `SOCK_CLOEXEC`), so no other thread's
/// spawned child can inherit an end by accident.
///
/// @code
///   absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
///   if (!pipe.ok()) return pipe.status();
///   auto [reader, writer] = std::move(*pipe);
///
///   absl::StatusOr<tubo::DuplexPipe> duplex = tubo::DuplexPipe::Create();
///   auto [left, right] = std::move(*duplex);
/// @endcode
#ifndef TUBO_PIPE_H_
#define TUBO_PIPE_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include "absl/status/statusor.h"
#include "tubo/end.h"

namespace tubo {

/// @brief A simplex pipe: what is sent on `writer` is received on `reader`.
struct Pipe {
  /// The receiving end.
  ReadEnd reader;
  /// The sending end.
  WriteEnd writer;

  /// Creates a pipe (`pipe2(O_CLOEXEC)`). Errors: the errno of `pipe2`
  /// (`EMFILE`, `ENFILE`) as `Error::kSystem`.
  static absl::StatusOr<Pipe> Create();
};

/// @brief A duplex pipe: two connected ends, each sending to and receiving
/// from the other, like Python's `%Pipe(duplex=True)`.
struct DuplexPipe {
  /// One end.
  DuplexEnd first;
  /// The other end.
  DuplexEnd second;

  /// Creates a duplex pipe (`socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)`).
  /// Errors: the errno of `socketpair` as `Error::kSystem`.
  static absl::StatusOr<DuplexPipe> Create();
};

}  // namespace tubo

#endif  // TUBO_PIPE_H_
