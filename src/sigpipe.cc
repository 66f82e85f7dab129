// The SIGPIPE declaration (see tubo/sigpipe.h).
#include "tubo/sigpipe.h"

#include <signal.h>

#include <cerrno>

#include "tubo/error.h"
#include "tubo/internal/io.h"

namespace tubo {

absl::Status DeclareSigpipeIgnored() {
  struct sigaction current = {};
  if (::sigaction(SIGPIPE, nullptr, &current) != 0) {
    return SystemError(errno, "declare SIGPIPE ignored: sigaction");
  }
  // sa_handler and sa_sigaction share their storage: SIG_DFL (null) is the
  // default disposition whether or not SA_SIGINFO is set.
  const bool handled = current.sa_handler != SIG_DFL;
  if (!handled) {
    return WithError(
        absl::InvalidArgumentError(
            "declare SIGPIPE ignored: SIGPIPE has its default disposition (a write to a pipe "
            "without readers would kill the process); ignore it first (signal(SIGPIPE, SIG_IGN)) "
            "or install a handler, then declare"),
        Error::kInvalidArgument);
  }
  internal::SetSigpipeDeclaredIgnored();
  return absl::OkStatus();
}

bool SigpipeDeclaredIgnored() { return internal::SigpipeIsDeclaredIgnored(); }

}  // namespace tubo
