// echo_worker: an exec worker that takes channel `in` (read) and `out`
// (write) and sends back every message unchanged until end of stream, then
// exits 0. On a framing or channel error it prints the error on stderr and
// exits non-zero. Cross-language tests drive it: keep exactly this contract.
#include <cstdio>

#include "tubo/tubo.h"

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "echo_worker: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<tubo::ReadEnd> in = tubo::TakeReadEnd("in");
  if (!in.ok()) return Fail(in.status());
  absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
  if (!out.ok()) return Fail(out.status());
  in->set_max_message_size(UINT64_MAX);
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = in->Recv();
    if (!m.ok()) return Fail(m.status());
    if (!*m) break;
    absl::Status s = out->Send((*m)->view());
    if (!s.ok()) return Fail(s);
  }
  absl::Status s = out->Close();
  return s.ok() ? 0 : Fail(s);
}
