// The C++ program of tools/check_bazel_consumer, built in a scratch workspace
// that depends on @tubo//:tubo as README.md says. A worker started by the self
// start method (this binary, re-executed) sends one message per argument
// through the channel "out"; the parent prints each message, then end of
// stream and the worker's exit status:
//
//   hello, bazel
//   hello, consumer
//   end of stream
//   worker exited(0)
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "tubo/tubo.h"

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "hello: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

TUBO_ENTRY(greeter) {
  absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
  if (!out.ok()) return Fail(out.status());
  for (const std::string& arg : args) {
    absl::Status sent = out->Send("hello, " + arg);
    if (!sent.ok()) return Fail(sent);
  }
  return 0;
}

int main(int argc, char** argv) {
  tubo::RunEntryIfRequested(argc, argv);
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  if (!pipe.ok()) return Fail(pipe.status());
  absl::StatusOr<tubo::Process> worker = tubo::Command::Self("greeter")
                                             .Arg("bazel")
                                             .Arg("consumer")
                                             .Channel("out", std::move(pipe->writer))
                                             .Spawn();
  if (!worker.ok()) return Fail(worker.status());
  for (;;) {
    absl::StatusOr<std::optional<tubo::Bytes>> message = pipe->reader.Recv();
    if (!message.ok()) return Fail(message.status());
    if (!*message) break;
    std::printf("%s\n", (*message)->str().c_str());
  }
  std::printf("end of stream\n");
  absl::StatusOr<tubo::ExitStatus> status = worker->Wait();
  if (!status.ok()) return Fail(status.status());
  std::printf("worker %s\n", status->ToString().c_str());
  return status->success() ? 0 : 1;
}
