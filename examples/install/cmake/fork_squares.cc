// The fork start method in C++, built against an installed tubo with CMake
// (tubo::tubo). A child squares the numbers it reads from one pipe and sends
// them back on another until end of stream; the parent sends 1..5, closes its
// write end (the child sees end of stream), prints the squares until end of
// stream and the child's exit status. Exits 1 on any error.
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "tubo/tubo.h"

namespace {

int Square(tubo::ReadEnd numbers, tubo::WriteEnd squares) {
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> number = numbers.Recv();
    if (!number.ok()) return 1;
    if (!*number) return 0;  // end of stream: the parent closed its write end
    const long value = std::stol((*number)->str());
    if (!squares.Send(std::to_string(value * value)).ok()) return 1;
  }
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "fork_squares: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<tubo::Pipe> numbers = tubo::Pipe::Create();
  if (!numbers.ok()) return Fail(numbers.status());
  absl::StatusOr<tubo::Pipe> squares = tubo::Pipe::Create();
  if (!squares.ok()) return Fail(squares.status());
  // The child gets the read end of one pipe and the write end of the other;
  // both are closed here when Fork returns.
  absl::StatusOr<tubo::Process> child =
      tubo::Fork(Square, std::move(numbers->reader), std::move(squares->writer));
  if (!child.ok()) return Fail(child.status());

  for (int i = 1; i <= 5; ++i) {
    if (absl::Status sent = numbers->writer.Send(std::to_string(i)); !sent.ok()) {
      return Fail(sent);
    }
  }
  if (absl::Status closed = numbers->writer.Close(); !closed.ok()) return Fail(closed);

  std::printf("fork_squares:");
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> square = squares->reader.Recv();
    if (!square.ok()) return Fail(square.status());
    if (!*square) break;  // end of stream: the child exited
    std::printf(" %s", (*square)->str().c_str());
  }
  absl::StatusOr<tubo::ExitStatus> status = child->Wait();
  if (!status.ok()) return Fail(status.status());
  std::printf("\nfork_squares: end of stream, child exited with %d\n", status->returncode());
  return status->success() ? 0 : 1;
}
