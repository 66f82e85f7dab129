// The exec start method in C++, built against an installed tubo with a plain
// Makefile and pkg-config (module tubo-cpp). Runs `cat` with its stdin and
// stdout on two pipes, sends three messages (cat copies the framed bytes as
// they are), closes the write end (cat sees end of file and exits), prints the
// messages that come back until end of stream and cat's exit status. Exits 1
// on any error.
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "tubo/tubo.h"

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "exec_cat: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<tubo::Pipe> to_cat = tubo::Pipe::Create();
  if (!to_cat.ok()) return Fail(to_cat.status());
  absl::StatusOr<tubo::Pipe> from_cat = tubo::Pipe::Create();
  if (!from_cat.ok()) return Fail(from_cat.status());
  // Both ends are consumed: the parent keeps no copy, so cat's end of file and
  // the parent's end of stream come when they should.
  absl::StatusOr<tubo::Process> cat = tubo::Command("cat")
                                          .Stdin(tubo::Stdio::End(std::move(to_cat->reader)))
                                          .Stdout(tubo::Stdio::End(std::move(from_cat->writer)))
                                          .Spawn();
  if (!cat.ok()) return Fail(cat.status());

  for (const char* word : {"alpha", "beta", "gamma"}) {
    if (absl::Status sent = to_cat->writer.Send(word); !sent.ok()) return Fail(sent);
  }
  if (absl::Status closed = to_cat->writer.Close(); !closed.ok()) return Fail(closed);

  std::printf("exec_cat:");
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> message = from_cat->reader.Recv();
    if (!message.ok()) return Fail(message.status());
    if (!*message) break;  // end of stream: cat exited
    std::printf(" %s", (*message)->str().c_str());
  }
  absl::StatusOr<tubo::ExitStatus> status = cat->Wait();
  if (!status.ok()) return Fail(status.status());
  std::printf("\nexec_cat: end of stream, cat exited with %d\n", status->returncode());
  return status->success() ? 0 : 1;
}
