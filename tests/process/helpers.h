// Helpers of the process-layer tests: reading a child's output, looking for
// leftover children (raw pipes, status messages and temporary paths are in
// tests/test_util.h). The helper children themselves are
// the TUBO_ENTRY points in helpers.cc, run with Command::Self:
//
//   list_fds          prints "fds: 0 1 2 ..." (its open descriptors, sorted)
//                     and "channels: <TUBO_CHANNELS>"
//   exit_with N       exits with N
//   sleep_forever     pauses until killed
//   ignore_term       ignores SIGTERM, sends "ready" on channel "ready", pauses
//   signal_state      prints its SigBlk and SigIgn lines of /proc/self/status
//   echo              echoes frames from channel "in" to "out" (or on "io")
//   die_mid_message   writes part of a frame to channel "out", then SIGKILLs itself
//   print_args        prints each argument on a line
//   print_env NAME..  prints NAME=value or NAME unset, one a line
//   print_cwd         prints its working directory
//   printf_then_fork  printf without a newline, Fork a child that prints, wait
#ifndef TUBO_TESTS_PROCESS_HELPERS_H_
#define TUBO_TESTS_PROCESS_HELPERS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tubo/fd.h"
#include "tubo/process.h"
#include "tubo/spawn.h"

namespace tubo {
namespace testing {

// Reads `fd` until end of stream. Fails the test (and returns what it got)
// if the end of stream does not come within `timeout`: a hang is the failure.
std::string ReadAll(int fd, absl::Duration timeout = absl::Seconds(20));

// True if a read on `fd` would see end of stream within `timeout`.
bool SeesEofWithin(int fd, absl::Duration timeout);

// Runs `cmd` with stdout captured through a pipe; returns the output and,
// through `status`, how the child ended. Fails the test if spawning fails.
std::string RunAndCapture(Command cmd, std::optional<ExitStatus>* status = nullptr);

// The descriptor numbers after "fds: " in list_fds output.
std::vector<int> ParseFdList(const std::string& output);
// The value after "channels: " in list_fds output.
std::string ParseChannels(const std::string& output);

// The sorted descriptors open in this process (like list_fds).
std::vector<int> OpenFds();

// True if this process has no child at all, running or zombie (nothing is
// reaped by looking).
bool HasNoChildren();

// True if /proc/<pid> disappears (the process was reaped) within `timeout`.
bool GoneWithin(pid_t pid, absl::Duration timeout);

// Runfiles: the echo_worker example and a file of this package.
std::string EchoWorkerPath();
std::string PackageFile(const std::string& name);

}  // namespace testing
}  // namespace tubo

#endif  // TUBO_TESTS_PROCESS_HELPERS_H_
