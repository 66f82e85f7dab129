// A pipe carrying messages to end of stream, in one process.
#include <cstdio>
#include <string>

#include "tubo/tubo.h"

int main() {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  if (!pipe.ok()) {
    std::fprintf(stderr, "%s\n", pipe.status().ToString().c_str());
    return 1;
  }
  auto [reader, writer] = std::move(*pipe);
  for (int i = 0; i < 10; ++i) {
    absl::Status s = writer.Send(std::to_string(i * i));
    if (!s.ok()) return 1;
  }
  writer.Close().IgnoreError();  // the last write end: the reader sees EOF next
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = reader.Recv();
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      return 1;
    }
    if (!*m) break;
    std::printf("%s\n", (*m)->str().c_str());
  }
  std::printf("End of communication\n");
  return 0;
}
