// The SIGPIPE declaration (tubo/sigpipe.h): refused under the default
// disposition (and then a send to a pipe without readers still fails
// cleanly), accepted when SIGPIPE is ignored or handled; after it, sends to a
// pipe without readers fail with kPeerClosed, the process lives, a handler
// runs, and sends no longer touch the thread's signal mask. The declaration
// is for the whole process and cannot be taken back, so each case runs in a
// forked child and reports through its exit code.
#include "tubo/sigpipe.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "tubo/error.h"
#include "tubo/pipe.h"

namespace {

using tubo::Error;
using tubo::ErrorOf;

// Runs `body` in a forked child; returns its exit code (or 100 + signal).
int InChild(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) _exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

// Sends to a pipe whose reader is closed: 0 if it failed with kPeerClosed.
int SendToClosedPipe() {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  if (!pipe.ok()) return 10;
  if (!pipe->reader.Close().ok()) return 11;
  absl::Status sent = pipe->writer.Send("nobody reads this");
  return ErrorOf(sent) == Error::kPeerClosed ? 0 : 12;
}

bool SigpipeBlockedInThisThread() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

TEST(Sigpipe, RefusedUnderTheDefaultDisposition) {
  EXPECT_EQ(
      InChild([] {
        signal(SIGPIPE, SIG_DFL);
        absl::Status declared = tubo::DeclareSigpipeIgnored();
        if (ErrorOf(declared) != Error::kInvalidArgument) return 1;
        if (std::string(declared.message()).find("signal(SIGPIPE, SIG_IGN)") == std::string::npos) {
          return 2;
        }
        if (tubo::SigpipeDeclaredIgnored()) return 3;
        // Not declared: tubo still keeps the process alive.
        return SendToClosedPipe() == 0 ? 0 : 4;
      }),
      0);
}

TEST(Sigpipe, IgnoredThenDeclaredSendsFailCleanly) {
  EXPECT_EQ(InChild([] {
              signal(SIGPIPE, SIG_IGN);
              if (!tubo::DeclareSigpipeIgnored().ok()) return 1;
              if (!tubo::SigpipeDeclaredIgnored()) return 2;
              if (!tubo::DeclareSigpipeIgnored().ok()) return 3;  // again: harmless
              if (SendToClosedPipe() != 0) return 4;
              return SigpipeBlockedInThisThread() ? 5 : 0;
            }),
            0);
}

std::atomic<int> handled{0};
void CountSigpipe(int) { handled.fetch_add(1); }

TEST(Sigpipe, HandledThenDeclaredRunsTheHandler) {
  EXPECT_EQ(InChild([] {
              struct sigaction action = {};
              action.sa_handler = CountSigpipe;
              sigemptyset(&action.sa_mask);
              sigaction(SIGPIPE, &action, nullptr);
              if (!tubo::DeclareSigpipeIgnored().ok()) return 1;
              if (SendToClosedPipe() != 0) return 2;
              // The write raised SIGPIPE on this thread, unblocked: the
              // program's own handler saw it, as the declaration says.
              return handled.load() == 1 ? 0 : 3;
            }),
            0);
}

// Without the declaration the signal a write raises is consumed: a handler
// never sees it (the default contract).
TEST(Sigpipe, UndeclaredConsumesTheSignal) {
  EXPECT_EQ(InChild([] {
              struct sigaction action = {};
              action.sa_handler = CountSigpipe;
              sigemptyset(&action.sa_mask);
              sigaction(SIGPIPE, &action, nullptr);
              if (SendToClosedPipe() != 0) return 2;
              if (SigpipeBlockedInThisThread()) return 4;
              return handled.load() == 0 ? 0 : 3;
            }),
            0);
}

}  // namespace
