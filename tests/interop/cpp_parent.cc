// Cross-language matrix, parent "C++": drives an echo worker through tubo's
// C++ API.
//
// CLI:  cpp_parent [--] <worker argv...>
//   Spawns the worker (argv[0] looked up in PATH when it has no '/') with
//   channels `in` (the worker reads) and `out` (the worker writes), by
//   contract 2. Sends one message of each size 0, 1, 16383, 16384, 16385,
//   65535, 65536, 65537 and 1 MiB, checking that each comes back unchanged;
//   closes `in`; expects EOF on `out` and the worker to exit 0.
//   Prints one summary line ("cpp_parent: OK ..." or "cpp_parent: FAIL ...");
//   exits 0 on success, 1 on failure. Gives up after 120 s.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tubo/tubo.h"

namespace {

const size_t kSizes[] = {0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1 << 20};

std::string Message(size_t size) {
  std::string m(size, '\0');
  for (size_t i = 0; i < size; ++i) m[i] = static_cast<char>((i * 7 + size) & 0xff);
  return m;
}

int Fail(const std::string& why) {
  std::printf("cpp_parent: FAIL %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    std::fprintf(stderr, "usage: cpp_parent [--] <worker argv...>\n");
    return 2;
  }
  ::alarm(120);  // a hang is a failure: SIGALRM ends the driver
  absl::StatusOr<tubo::Pipe> in = tubo::Pipe::Create();
  absl::StatusOr<tubo::Pipe> out = tubo::Pipe::Create();
  if (!in.ok() || !out.ok()) return Fail("cannot create pipes");
  tubo::Command command(argv[first]);
  command.SearchPath();
  for (int i = first + 1; i < argc; ++i) command.Arg(argv[i]);
  absl::StatusOr<tubo::Process> worker =
      command.Channel("in", std::move(in->reader)).Channel("out", std::move(out->writer)).Spawn();
  if (!worker.ok()) return Fail(worker.status().ToString());
  tubo::WriteEnd& to_worker = in->writer;
  tubo::ReadEnd& from_worker = out->reader;
  from_worker.set_max_message_size(uint64_t{1} << 30);
  for (size_t size : kSizes) {
    const std::string sent = Message(size);
    absl::Status s = to_worker.Send(sent);
    if (!s.ok()) return Fail(s.ToString());
    absl::StatusOr<std::optional<tubo::Bytes>> echo = from_worker.Recv();
    if (!echo.ok()) return Fail(echo.status().ToString());
    if (!*echo) return Fail("EOF instead of the echo of " + std::to_string(size) + " bytes");
    if ((*echo)->view() != sent)
      return Fail("the echo of " + std::to_string(size) + " bytes differs");
  }
  absl::Status closed = to_worker.Close();
  if (!closed.ok()) return Fail(closed.ToString());
  absl::StatusOr<std::optional<tubo::Bytes>> end = from_worker.Recv();
  if (!end.ok()) return Fail(end.status().ToString());
  if (*end) return Fail("a message after the last echo, expected EOF");
  absl::StatusOr<tubo::ExitStatus> status = worker->Wait();
  if (!status.ok()) return Fail(status.status().ToString());
  if (!status->success()) return Fail("worker ended " + status->ToString());
  std::printf("cpp_parent: OK %zu messages of 0..%zu bytes echoed, EOF, exit 0\n",
              sizeof(kSizes) / sizeof(kSizes[0]), kSizes[sizeof(kSizes) / sizeof(kSizes[0]) - 1]);
  return 0;
}
