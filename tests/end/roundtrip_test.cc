// Send/Recv round trips of every interesting size, across processes, on
// simplex pipes and on duplex ends in both directions.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ForkChild;
using tubo_test::IsPattern;
using tubo_test::Pattern;

// Around the header sizes, the reader's half and whole read-ahead buffer
// (32 KiB, 64 KiB), the CPython 16 KiB send split, the pipe capacity, and
// well above it.
const size_t kSizes[] = {0,     1,     4,     5,     16383, 16384,   16385,        32767,
                         32768, 32769, 65535, 65536, 65537, 1 << 20, (8 << 20) + 3};

class RoundTrip : public ::testing::TestWithParam<size_t> {};

INSTANTIATE_TEST_SUITE_P(Sizes, RoundTrip, ::testing::ValuesIn(kSizes));

TEST_P(RoundTrip, PipeFromChildProcess) {
  const size_t size = GetParam();
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pid_t pid = ForkChild([&] {
    pipe->reader.Close().IgnoreError();
    CHILD_CHECK(pipe->writer.Send(Pattern(size, size)).ok(), 2);
    CHILD_CHECK(pipe->writer.Close().ok(), 3);
    return 0;
  });
  ASSERT_TRUE(pipe->writer.Close().ok());
  absl::StatusOr<std::optional<tubo::Bytes>> m = pipe->reader.Recv();
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->size(), size);
  EXPECT_TRUE(IsPattern((*m)->view(), size));
  absl::StatusOr<std::optional<tubo::Bytes>> eof = pipe->reader.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_CHILD_OK(pid);
}

TEST_P(RoundTrip, PipeIntoExactBufferFromChildProcess) {
  const size_t size = GetParam();
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pid_t pid = ForkChild([&] {
    pipe->reader.Close().IgnoreError();
    CHILD_CHECK(pipe->writer.Send(Pattern(size, size)).ok(), 2);
    return 0;
  });
  ASSERT_TRUE(pipe->writer.Close().ok());
  std::vector<char> buffer(size);
  absl::StatusOr<tubo::RecvResult> r = pipe->reader.RecvInto(buffer.data(), size);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->message());
  ASSERT_EQ(r->size, size);
  EXPECT_TRUE(IsPattern(std::string_view(buffer.data(), size), size));
  r = pipe->reader.RecvInto(buffer.data(), size);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->eof());
  EXPECT_CHILD_OK(pid);
}

TEST_P(RoundTrip, DuplexFirstToSecond) {
  const size_t size = GetParam();
  absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  // The child receives on `second` and answers with what it saw.
  pid_t pid = ForkChild([&] {
    pipe->first.Close().IgnoreError();
    absl::StatusOr<std::optional<tubo::Bytes>> m = pipe->second.Recv();
    CHILD_CHECK(m.ok() && m->has_value(), 2);
    CHILD_CHECK((*m)->size() == size, 3);
    CHILD_CHECK(IsPattern((*m)->view(), size), 4);
    m = pipe->second.Recv();
    CHILD_CHECK(m.ok() && !m->has_value(), 5);
    CHILD_CHECK(pipe->second.Send("ok").ok(), 6);
    return 0;
  });
  ASSERT_TRUE(pipe->second.Close().ok());
  ASSERT_TRUE(pipe->first.Send(Pattern(size, size)).ok());
  ASSERT_TRUE(pipe->first.CloseWrite().ok());
  absl::StatusOr<std::optional<tubo::Bytes>> reply = pipe->first.Recv();
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->has_value());
  EXPECT_EQ((*reply)->view(), "ok");
  EXPECT_CHILD_OK(pid);
}

TEST_P(RoundTrip, DuplexSecondToFirst) {
  const size_t size = GetParam();
  absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pid_t pid = ForkChild([&] {
    pipe->first.Close().IgnoreError();
    CHILD_CHECK(pipe->second.Send(Pattern(size, size)).ok(), 2);
    CHILD_CHECK(pipe->second.Close().ok(), 3);
    return 0;
  });
  ASSERT_TRUE(pipe->second.Close().ok());
  absl::StatusOr<std::optional<tubo::Bytes>> m = pipe->first.Recv();
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->size(), size);
  EXPECT_TRUE(IsPattern((*m)->view(), size));
  m = pipe->first.Recv();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->has_value());
  EXPECT_CHILD_OK(pid);
}

TEST(RoundTripStream, AllSizesInOrderInOneStream) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pid_t pid = ForkChild([&] {
    pipe->reader.Close().IgnoreError();
    for (size_t size : kSizes) CHILD_CHECK(pipe->writer.Send(Pattern(size, size)).ok(), 2);
    return 0;
  });
  ASSERT_TRUE(pipe->writer.Close().ok());
  for (size_t size : kSizes) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = pipe->reader.Recv();
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(m->has_value()) << "early EOF before the message of " << size;
    ASSERT_EQ((*m)->size(), size);
    EXPECT_TRUE(IsPattern((*m)->view(), size)) << size;
  }
  absl::StatusOr<std::optional<tubo::Bytes>> eof = pipe->reader.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_CHILD_OK(pid);
}

TEST(RoundTripStream, TenThousandSmallMessagesArriveInOrder) {
  constexpr int kCount = 10000;
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pid_t pid = ForkChild([&] {
    pipe->reader.Close().IgnoreError();
    for (int i = 0; i < kCount; ++i) {
      CHILD_CHECK(pipe->writer.Send("m" + std::to_string(i)).ok(), 2);
    }
    return 0;
  });
  ASSERT_TRUE(pipe->writer.Close().ok());
  for (int i = 0; i < kCount; ++i) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = pipe->reader.Recv();
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(m->has_value()) << "early EOF at " << i;
    ASSERT_EQ((*m)->view(), "m" + std::to_string(i));
  }
  absl::StatusOr<std::optional<tubo::Bytes>> eof = pipe->reader.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_CHILD_OK(pid);
}

TEST(RoundTripStream, TenThousandSmallMessagesIntoABuffer) {
  constexpr int kCount = 10000;
  absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pid_t pid = ForkChild([&] {
    pipe->first.Close().IgnoreError();
    for (int i = 0; i < kCount; ++i) {
      CHILD_CHECK(pipe->second.Send(std::string(i % 40, 'a' + i % 26)).ok(), 2);
    }
    return 0;
  });
  ASSERT_TRUE(pipe->second.Close().ok());
  char buffer[64];
  for (int i = 0; i < kCount; ++i) {
    absl::StatusOr<tubo::RecvResult> r = pipe->first.RecvInto(buffer, sizeof(buffer));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->message()) << "at " << i;
    ASSERT_EQ(std::string(buffer, r->size), std::string(i % 40, 'a' + i % 26));
  }
  absl::StatusOr<tubo::RecvResult> r = pipe->first.RecvInto(buffer, sizeof(buffer));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->eof());
  EXPECT_CHILD_OK(pid);
}

}  // namespace
