// A shared object that carries all of libtubo-cpp.a (see CMakeLists.txt) and
// uses it: one message through a pipe and back.
#include <optional>
#include <string>

#include "tubo/tubo.h"

static_assert(__cplusplus >= 202002L, "the probe must compile as C++20 (CMAKE_CXX_STANDARD)");

/// Sends "probe" through a new pipe and receives it. Returns 0 when the same
/// bytes come back and end of stream follows the close of the write end.
extern "C" __attribute__((visibility("default"))) int ProbeRoundTrip() {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  if (!pipe.ok() || !pipe->writer.Send("probe").ok() || !pipe->writer.Close().ok()) return 1;
  absl::StatusOr<std::optional<tubo::Bytes>> message = pipe->reader.Recv();
  if (!message.ok() || !*message || (*message)->str() != "probe") return 1;
  absl::StatusOr<std::optional<tubo::Bytes>> eof = pipe->reader.Recv();
  return eof.ok() && !*eof ? 0 : 1;
}
