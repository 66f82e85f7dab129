/// @file
/// @brief The SIGPIPE declaration: a program that ignores SIGPIPE says so,
/// and every send to a pipe costs one system call instead of three.
///
/// A write to a pipe whose readers are gone raises SIGPIPE, whose default
/// action kills the process. tubo promises that a send to such an end fails
/// with `Error::kPeerClosed` instead, whatever the program's signal setup, so
/// by default it blocks SIGPIPE in the calling thread around every write to a
/// pipe (two `rt_sigprocmask` calls, and a `sigtimedwait` when the write did
/// raise it). Sockets need none of this (`MSG_NOSIGNAL`).
///
/// A program whose SIGPIPE is ignored (`signal(SIGPIPE, SIG_IGN)`: most
/// servers do this at start-up; CPython does it before running any Python
/// code) or handled by a handler it installed can declare it, once, early:
///
/// @code
///   signal(SIGPIPE, SIG_IGN);
///   tubo::DeclareSigpipeIgnored().IgnoreError();   // checked: see below
/// @endcode
///
/// From then on tubo writes to pipes with no mask change. A send to a pipe
/// whose readers are gone still fails with `Error::kPeerClosed` (EPIPE); the
/// signal is ignored, or runs the program's handler.
///
/// The declaration is checked when it is made: if SIGPIPE has its default
/// disposition then, it is refused (`Error::kInvalidArgument`, naming the
/// fix), so a program cannot die of SIGPIPE silently because of a wrong
/// declaration. tubo never changes the disposition itself. A program that
/// restores the default disposition after declaring breaks its own promise:
/// its next write to a pipe without readers kills it, as a plain `write`
/// would. The children tubo starts get the default disposition, declared or
/// not (they start with default dispositions and an empty mask), and a child
/// of `tubo::Fork` starts undeclared.
#ifndef TUBO_SIGPIPE_H_
#define TUBO_SIGPIPE_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include "absl/status/status.h"

namespace tubo {

/// Declares that this process ignores or handles SIGPIPE (see the file
/// comment), after checking it: OK if SIGPIPE's disposition is `SIG_IGN` or a
/// handler; `Error::kInvalidArgument` if it is `SIG_DFL` (nothing declared);
/// `Error::kSystem` if `sigaction` fails. Thread-safe; declaring again is
/// harmless. C: `tubo_declare_sigpipe_ignored`.
absl::Status DeclareSigpipeIgnored();

/// True once `DeclareSigpipeIgnored` succeeded in this process.
bool SigpipeDeclaredIgnored();

}  // namespace tubo

#endif  // TUBO_SIGPIPE_H_
