// Seed program 3: a pipeline of two processes and the parent.
//
// create_items sends 0..9 into pipe 1; multiply_items reads pipe 1 until end
// of stream and sends each item squared into pipe 2; the parent prints what
// arrives on pipe 2 until end of stream. In the Python original, forgetting
// to close the parent's copies of the write ends makes the parent wait
// forever; here the ends are moved into the workers, so the parent has no
// copies to forget.
#include <cstdio>
#include <string>

#include "tubo/tubo.h"

namespace {

int CreateItems(tubo::WriteEnd out) {
  for (int item = 0; item < 10; ++item) {
    if (!out.Send(std::to_string(item)).ok()) return 1;
  }
  return out.Close().ok() ? 0 : 1;
}

int MultiplyItems(tubo::ReadEnd in, tubo::WriteEnd out) {
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> item = in.Recv();
    if (!item.ok()) {
      std::fprintf(stderr, "multiply_items: %s\n", item.status().ToString().c_str());
      return 1;
    }
    if (!*item) break;  // end of stream: create_items is done
    const long value = std::stol((*item)->str());
    if (!out.Send(std::to_string(value * value)).ok()) return 1;
  }
  return out.Close().ok() ? 0 : 1;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "pipeline: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<tubo::Pipe> pipe1 = tubo::Pipe::Create();
  if (!pipe1.ok()) return Fail(pipe1.status());
  absl::StatusOr<tubo::Pipe> pipe2 = tubo::Pipe::Create();
  if (!pipe2.ok()) return Fail(pipe2.status());

  absl::StatusOr<tubo::Process> creator = tubo::Fork(CreateItems, std::move(pipe1->writer));
  if (!creator.ok()) return Fail(creator.status());
  absl::StatusOr<tubo::Process> multiplier =
      tubo::Fork(MultiplyItems, std::move(pipe1->reader), std::move(pipe2->writer));
  if (!multiplier.ok()) return Fail(multiplier.status());

  tubo::ReadEnd& results = pipe2->reader;
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> item = results.Recv();
    if (!item.ok()) return Fail(item.status());
    if (!*item) break;
    std::printf("%s\n", (*item)->str().c_str());
  }
  std::printf("End of communication\n");
  absl::StatusOr<tubo::ExitStatus> s1 = creator->Wait();
  absl::StatusOr<tubo::ExitStatus> s2 = multiplier->Wait();
  return s1.ok() && s1->success() && s2.ok() && s2->success() ? 0 : 1;
}
