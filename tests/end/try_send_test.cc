// TrySend, SendFor and FlushFor, and WaitSet writability: a frame is either
// not accepted (nothing of it written) or committed (the end finishes it
// before anything else), so one thread can feed many slow readers.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::Pattern;

int Queued(int fd) {
  int n = -1;
  ::ioctl(fd, FIONREAD, &n);
  return n;
}

// Fills the pipe behind `writer` with 1000-byte messages, then 1-byte ones,
// until TrySend says it would block (the last page then has fewer than 5
// bytes free, so no frame of 5 bytes or more fits); returns how many were
// accepted. Message i is Pattern(1000, i), then Pattern(1, i).
int Fill(tubo::WriteEnd& writer) {
  int n = 0;
  for (size_t size : {1000, 1}) {
    for (;;) {
      absl::StatusOr<bool> accepted = writer.TrySend(Pattern(size, n));
      EXPECT_TRUE(accepted.ok()) << accepted.status();
      if (!accepted.ok() || !*accepted) break;
      ++n;
      if (writer.unsent_bytes() > 0) return n;  // the last one was committed
    }
  }
  return n;
}

constexpr int kWorkers = 3;
constexpr size_t kMessage = 256 * 1024;
constexpr int kMessages = 32;  // 8 MiB per worker

// A worker: receives kMessages messages with the pattern for its index, then
// expects end of stream.
int Worker(int index, tubo::ReadEnd in) {
  for (int i = 0; i < kMessages; ++i) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = in.Recv();
    CHILD_CHECK(m.ok() && m->has_value(), 2);
    CHILD_CHECK((*m)->view() == Pattern(kMessage, index * 1000 + i), 3);
  }
  absl::StatusOr<std::optional<tubo::Bytes>> eof = in.Recv();
  CHILD_CHECK(eof.ok() && !eof->has_value(), 4);
  return 0;
}

TEST(TrySendTest, OneThreadFeedsThreeWorkersThroughAWaitSet) {
  std::vector<tubo::WriteEnd> writers;
  std::vector<tubo::Process> workers;
  for (int w = 0; w < kWorkers; ++w) {
    absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
    ASSERT_TRUE(pipe.ok());
    absl::StatusOr<tubo::Process> p = tubo::Fork(
        [w](tubo::ReadEnd in) { return Worker(w, std::move(in)); }, std::move(pipe->reader));
    ASSERT_TRUE(p.ok()) << p.status();
    workers.push_back(std::move(*p));
    writers.push_back(std::move(pipe->writer));
  }
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  for (int w = 0; w < kWorkers; ++w) ASSERT_TRUE(set->Add(writers[w], w).ok());
  std::vector<int> next(kWorkers, 0);
  std::vector<std::string> message(kWorkers);
  for (int w = 0; w < kWorkers; ++w) message[w] = Pattern(kMessage, w * 1000);
  int open = kWorkers;
  int would_block = 0;
  while (open > 0) {
    absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::Seconds(30));
    ASSERT_TRUE(ready.ok());
    ASSERT_FALSE(ready->empty()) << "nothing became writable in 30 s";
    for (uint64_t key : *ready) {
      tubo::WriteEnd& writer = writers[key];
      if (next[key] == kMessages) {
        // Everything accepted: finish the committed rest, then close.
        absl::Status flushed = writer.FlushFor(absl::ZeroDuration());
        if (flushed.ok()) {
          ASSERT_TRUE(set->Remove(key).ok());
          ASSERT_TRUE(writer.Close().ok());
          --open;
        } else {
          ASSERT_EQ(tubo::ErrorOf(flushed), tubo::Error::kTimeout) << flushed;
        }
        continue;
      }
      absl::StatusOr<bool> accepted = writer.TrySend(message[key]);
      ASSERT_TRUE(accepted.ok()) << accepted.status();
      if (!*accepted) {
        ++would_block;
        continue;
      }
      if (++next[key] < kMessages) message[key] = Pattern(kMessage, key * 1000 + next[key]);
    }
  }
  for (tubo::Process& p : workers) {
    absl::StatusOr<tubo::ExitStatus> st = p.Wait();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->returncode(), 0);
  }
  std::printf("would-block answers: %d\n", would_block);
}

TEST(TrySendTest, SendForToAStalledReaderTimesOutWithNothingWritten) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  tubo::ReadEnd& reader = pipe->reader;
  tubo::WriteEnd& writer = pipe->writer;
  const int filled = Fill(writer);
  ASSERT_GT(filled, 0);
  ASSERT_EQ(writer.unsent_bytes(), 0u) << "the fill ended on a committed rest";
  const int queued = Queued(reader.fd().get());
  const absl::Time t0 = absl::Now();
  absl::Status s = writer.SendFor(Pattern(5000, 77), absl::Milliseconds(200));
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(200));
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTimeout) << s;
  EXPECT_EQ(Queued(reader.fd().get()), queued);
  EXPECT_EQ(writer.unsent_bytes(), 0u);
  absl::StatusOr<bool> accepted = writer.TrySend("x");
  ASSERT_TRUE(accepted.ok());
  EXPECT_FALSE(*accepted);
  // The reader finds exactly what was accepted, and nothing torn.
  ASSERT_TRUE(writer.Close().ok());
  for (int i = 0; i < filled; ++i) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = reader.Recv();
    ASSERT_TRUE(m.ok() && m->has_value()) << i;
    const size_t size = (*m)->size();
    ASSERT_TRUE(size == 1000 || size == 1) << size;
    EXPECT_EQ((*m)->view(), Pattern(size, i));
  }
  absl::StatusOr<std::optional<tubo::Bytes>> eof = reader.Recv();
  ASSERT_TRUE(eof.ok());
  EXPECT_FALSE(eof->has_value());
}

TEST(TrySendTest, PartialProgressCommitsAndTheFrameArrivesWhole) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  tubo::ReadEnd& reader = pipe->reader;
  tubo::WriteEnd& writer = pipe->writer;
  const std::string big = Pattern(3 * 1024 * 1024, 5);
  absl::Status s = writer.SendFor(big, absl::Milliseconds(100));
  ASSERT_TRUE(s.ok()) << s;  // committed: part of it is in the pipe
  const size_t rest = writer.unsent_bytes();
  EXPECT_GT(rest, 0u);
  EXPECT_LT(rest, big.size());
  // A new message cannot overtake the rest: not accepted while it is stuck.
  absl::StatusOr<bool> accepted = writer.TrySend("after");
  ASSERT_TRUE(accepted.ok());
  EXPECT_FALSE(*accepted);
  EXPECT_EQ(writer.unsent_bytes(), rest);
  absl::Status timed = writer.SendFor("after", absl::Milliseconds(50));
  EXPECT_EQ(tubo::ErrorOf(timed), tubo::Error::kTimeout) << timed;
  // A reader appears: the rest goes out first, then the next message.
  std::vector<std::string> got;
  std::thread t([&] {
    for (;;) {
      absl::StatusOr<std::optional<tubo::Bytes>> m = reader.Recv();
      if (!m.ok() || !m->has_value()) return;
      got.emplace_back((*m)->view());
    }
  });
  ASSERT_TRUE(writer.Send("after").ok());
  EXPECT_EQ(writer.unsent_bytes(), 0u);
  ASSERT_TRUE(writer.Close().ok());
  t.join();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0] == big) << "the committed frame arrived torn";
  EXPECT_EQ(got[1], "after");
}

TEST(TrySendTest, BufferedFramesLeaveWithATrySend) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  tubo::ReadEnd& reader = pipe->reader;
  tubo::WriteEnd& writer = pipe->writer;
  ASSERT_TRUE(writer.SetSendBufferSize(4096).ok());
  ASSERT_TRUE(writer.Send("one").ok());
  EXPECT_EQ(writer.unsent_bytes(), 7u);
  absl::StatusOr<bool> accepted = writer.TrySend("two");
  ASSERT_TRUE(accepted.ok() && *accepted);
  EXPECT_EQ(writer.unsent_bytes(), 0u);
  EXPECT_EQ(Queued(reader.fd().get()), 14);
  for (const char* want : {"one", "two"}) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = reader.Recv();
    ASSERT_TRUE(m.ok() && m->has_value());
    EXPECT_EQ((*m)->view(), want);
  }
}

TEST(TrySendTest, ReadersGoneIsPeerClosedWithoutSigpipe) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  tubo::ReadEnd& reader = pipe->reader;
  tubo::WriteEnd& writer = pipe->writer;
  ASSERT_TRUE(reader.Close().ok());
  absl::StatusOr<bool> accepted = writer.TrySend("x");
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(tubo::ErrorOf(accepted.status()), tubo::Error::kPeerClosed);
  absl::Status s = writer.SendFor("x", absl::Milliseconds(10));
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kPeerClosed) << s;
}

TEST(TrySendTest, WaitSetReportsWritability) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  tubo::ReadEnd& reader = pipe->reader;
  tubo::WriteEnd& writer = pipe->writer;
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->Add(writer, 9).ok());
  absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::ZeroDuration());
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{9});
  Fill(writer);
  ready = set->Wait(absl::Milliseconds(50));
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(ready->empty());
  ASSERT_TRUE(reader.Close().ok());  // readers gone: ready, and a send fails
  ready = set->Wait(absl::Seconds(5));
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{9});
}

TEST(TrySendTest, DuplexEndsTrySendAndWatchWritability) {
  absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
  ASSERT_TRUE(pipe.ok());
  tubo::DuplexEnd& a = pipe->first;
  tubo::DuplexEnd& b = pipe->second;
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->AddWritable(a, 1).ok());
  absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::ZeroDuration());
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{1});
  const std::string big = Pattern(8 * 1024 * 1024, 3);
  absl::StatusOr<bool> accepted = a.TrySend(big);
  ASSERT_TRUE(accepted.ok() && *accepted);
  EXPECT_GT(a.unsent_bytes(), 0u);
  std::string got;
  std::thread t([&] {
    absl::StatusOr<std::optional<tubo::Bytes>> m = b.Recv();
    if (m.ok() && m->has_value()) got = std::string((*m)->view());
  });
  while (a.unsent_bytes() > 0) {
    ready = set->Wait(absl::Seconds(10));
    ASSERT_TRUE(ready.ok() && !ready->empty());
    absl::Status f = a.FlushFor(absl::ZeroDuration());
    ASSERT_TRUE(f.ok() || tubo::ErrorOf(f) == tubo::Error::kTimeout) << f;
  }
  t.join();
  EXPECT_TRUE(got == big);
  ASSERT_TRUE(a.CloseWrite().ok());
  EXPECT_EQ(tubo::ErrorOf(a.TrySend("x").status()), tubo::Error::kClosed);
}

}  // namespace
