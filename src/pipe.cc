// Creating simplex and duplex pipes, close-on-exec from the start.
#include "tubo/pipe.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "tubo/error.h"

namespace tubo {

absl::StatusOr<Pipe> Pipe::Create() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return WithError(absl::ErrnoToStatus(errno, "create pipe"), Error::kSystem);
  }
  return Pipe{ReadEnd(OwnedFd::Adopt(fds[0])), WriteEnd(OwnedFd::Adopt(fds[1]))};
}

absl::StatusOr<DuplexPipe> DuplexPipe::Create() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
    return WithError(absl::ErrnoToStatus(errno, "create duplex pipe"), Error::kSystem);
  }
  return DuplexPipe{DuplexEnd(OwnedFd::Adopt(fds[0])), DuplexEnd(OwnedFd::Adopt(fds[1]))};
}

}  // namespace tubo
