// Creating simplex and duplex pipes, close-on-exec from the start.
#include "tubo/pipe.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tubo/error.h"
#include "tubo/internal/io.h"

namespace tubo {
namespace {

// Moves both new descriptors off 0-2 (see internal::OffStdio); on failure
// closes whatever is left and reports it.
absl::Status KeepOffStdio(int fds[2], const char* op) {
  fds[0] = internal::OffStdio(fds[0]);
  const int err0 = errno;
  fds[1] = internal::OffStdio(fds[1]);
  const int err1 = errno;
  if (fds[0] >= 0 && fds[1] >= 0) return absl::OkStatus();
  if (fds[0] >= 0) ::close(fds[0]);
  if (fds[1] >= 0) ::close(fds[1]);
  return SystemError(fds[0] < 0 ? err0 : err1, absl::StrCat(op, ": move off standard streams"));
}

}  // namespace

absl::StatusOr<Pipe> Pipe::Create() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return SystemError(errno, "create pipe");
  }
  if (absl::Status s = KeepOffStdio(fds, "create pipe"); !s.ok()) return s;
  return Pipe{ReadEnd(OwnedFd::Adopt(fds[0])), WriteEnd(OwnedFd::Adopt(fds[1]))};
}

absl::StatusOr<DuplexPipe> DuplexPipe::Create() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
    return SystemError(errno, "create duplex pipe");
  }
  if (absl::Status s = KeepOffStdio(fds, "create duplex pipe"); !s.ok()) return s;
  return DuplexPipe{DuplexEnd(OwnedFd::Adopt(fds[0])), DuplexEnd(OwnedFd::Adopt(fds[1]))};
}

}  // namespace tubo
