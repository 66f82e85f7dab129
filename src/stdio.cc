// Stdio: where a child's standard stream comes from or goes to.
#include "tubo/stdio.h"

#include <utility>

namespace tubo {

Stdio Stdio::Path(std::string path) {
  Stdio s(Kind::kFile);
  s.path_ = std::move(path);
  return s;
}

Stdio Stdio::Fd(OwnedFd fd) {
  Stdio s(Kind::kFd);
  if (!fd.valid()) {
    s.error_ = absl::InvalidArgumentError("stdio: the OwnedFd is empty");
  }
  s.fd_ = std::move(fd);
  return s;
}

Stdio Stdio::FromRelease(absl::StatusOr<OwnedFd> fd) {
  if (fd.ok()) return Fd(std::move(*fd));
  Stdio s(Kind::kFd);
  s.error_ = fd.status();  // reported by Spawn, which owns the failure
  return s;
}

Stdio Stdio::End(ReadEnd end) { return FromRelease(end.Release()); }
Stdio Stdio::End(WriteEnd end) { return FromRelease(end.Release()); }
Stdio Stdio::End(DuplexEnd end) { return FromRelease(end.Release()); }

}  // namespace tubo
