/// @file
/// @brief `Stdio`: where the standard stream of a child started by `Command`
/// comes from or goes to (inherited, `/dev/null`, a file path, a descriptor,
/// a pipe end).
#ifndef TUBO_STDIO_H_
#define TUBO_STDIO_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tubo/end.h"
#include "tubo/fd.h"

namespace tubo {

/// @brief Where a child's standard stream comes from or goes to.
class Stdio {
 public:
  /// The parent's own stream (the default).
  static Stdio Inherit() { return Stdio(Kind::kInherit); }
  /// `/dev/null`.
  static Stdio Null() { return Stdio(Kind::kNull); }
  /// The file at `path`: opened for reading for stdin; created or truncated
  /// for writing for stdout and stderr. Opened in the child; a failure is a
  /// spawn error naming the stage (`open stdout`) and the path.
  static Stdio Path(std::string path);
  /// The descriptor `fd`, consumed (closed in the parent when `Spawn` returns).
  static Stdio Fd(OwnedFd fd);
  /// A pipe end, consumed like a channel (the child reads or writes raw bytes
  /// on it; the framing is up to the two programs).
  static Stdio End(ReadEnd end);
  /// A pipe end, consumed. See the `ReadEnd` overload.
  static Stdio End(WriteEnd end);
  /// A pipe end, consumed. See the `ReadEnd` overload.
  static Stdio End(DuplexEnd end);

  /// Moves the choice (and any descriptor it holds).
  Stdio(Stdio&&) noexcept = default;
  /// Moves the choice (and any descriptor it holds).
  Stdio& operator=(Stdio&&) noexcept = default;

 private:
  friend class Command;
  friend class ForkServer;
  enum class Kind { kInherit, kNull, kFile, kFd };
  explicit Stdio(Kind kind) : kind_(kind) {}
  static Stdio FromRelease(absl::StatusOr<OwnedFd> fd);
  Kind kind_;
  std::string path_;
  OwnedFd fd_;
  absl::Status error_;  // from releasing an end; reported by Spawn
};

}  // namespace tubo

#endif  // TUBO_STDIO_H_
