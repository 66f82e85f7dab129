// Contracts 1 and 2 against CPython's own multiprocessing.connection, in both
// directions: a tubo parent with a Python worker, and a Python parent with
// tubo's echo_worker.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/process/helpers.h"
#include "tubo/pipe.h"
#include "tubo/spawn.h"

namespace tubo {
namespace {

using ::tubo::testing::EchoWorkerPath;
using ::tubo::testing::PackageFile;
using ::tubo::testing::RunAndCapture;

constexpr char kPython[] = "/usr/bin/python3";

std::string Payload(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + size) & 0xff);
  return s;
}

template <typename Out, typename In>
void ExpectEchoes(Out& out, In& in) {
  in.set_max_message_size(uint64_t{1} << 31);
  for (size_t size : {size_t{0}, size_t{1}, size_t{65537}, size_t{1} << 20}) {
    const std::string message = Payload(size);
    ASSERT_TRUE(out.Send(message).ok()) << "size " << size;
    absl::StatusOr<bool> ready = in.Poll(absl::Seconds(30));
    ASSERT_TRUE(ready.ok() && *ready) << "no echo of size " << size;
    absl::StatusOr<std::optional<Bytes>> m = in.Recv();
    ASSERT_TRUE(m.ok() && *m) << m.status();
    EXPECT_EQ((*m)->size(), size);
    EXPECT_TRUE((*m)->view() == message) << "size " << size;
  }
}

TEST(Python, TuboParentTalksToACPythonWorker) {
  Pipe in = std::move(*Pipe::Create());
  Pipe out = std::move(*Pipe::Create());
  absl::StatusOr<Process> p = Command(kPython)
                                  .Arg(PackageFile("tests/process/worker.py"))
                                  .Channel("in", std::move(in.reader))
                                  .Channel("out", std::move(out.writer))
                                  .Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectEchoes(in.writer, out.reader);
  ASSERT_TRUE(in.writer.Close().ok());
  ASSERT_TRUE(*out.reader.Poll(absl::Seconds(30)));
  absl::StatusOr<std::optional<Bytes>> eof = out.reader.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_EQ(*p->Wait(), ExitStatus::Exited(0));
}

TEST(Python, TuboParentTalksToACPythonWorkerOverADuplexChannel) {
  DuplexPipe d = std::move(*DuplexPipe::Create());
  absl::StatusOr<Process> p = Command(kPython)
                                  .Arg(PackageFile("tests/process/worker.py"))
                                  .Channel("io", std::move(d.second))
                                  .Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectEchoes(d.first, d.first);
  ASSERT_TRUE(d.first.CloseWrite().ok());
  ASSERT_TRUE(*d.first.Poll(absl::Seconds(30)));
  absl::StatusOr<std::optional<Bytes>> eof = d.first.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_EQ(*p->Wait(), ExitStatus::Exited(0));
}

TEST(Python, CPythonParentDrivesTheEchoWorker) {
  std::optional<ExitStatus> st;
  std::string out = RunAndCapture(
      std::move(Command(kPython).Arg(PackageFile("tests/process/parent.py")).Arg(EchoWorkerPath())),
      &st);
  EXPECT_EQ(out, "OK\n");
  EXPECT_EQ(st, ExitStatus::Exited(0));
}

}  // namespace
}  // namespace tubo
