// Crafted and cut-short byte streams: each framing error is the right kind,
// names the end, allocates nothing a header merely claims, and is sticky.
#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

// Sanitizer runtimes reserve terabytes of address space for their shadow
// memory, so they cannot run under an RLIMIT_AS; those builds skip just the
// limit (the error checks still run), the plain build keeps it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TUBO_NO_RLIMIT_AS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define TUBO_NO_RLIMIT_AS 1
#endif
#endif

namespace {

using tubo_test::ForkChild;
using tubo_test::Header12;
using tubo_test::Header4;
using tubo_test::WriteRaw;

// A read end whose stream holds exactly `bytes` and then ends.
tubo::ReadEnd ReaderOf(std::string_view bytes) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  if (!p.ok() || !WriteRaw(p->writer.fd().get(), bytes)) std::abort();
  return std::move(p->reader);  // the write end closes here
}

std::string Contains(const absl::Status& s, const std::string& part) {
  return std::string(s.message()).find(part) == std::string::npos
             ? "\"" + std::string(s.message()) + "\" lacks \"" + part + "\""
             : "";
}

// Every receive call, twice over, reports the same kind of error.
void ExpectSticky(tubo::ReadEnd& end, tubo::Error kind, const std::string& text) {
  char buffer[16];
  for (int i = 0; i < 2; ++i) {
    absl::Status s = end.Recv().status();
    EXPECT_EQ(tubo::ErrorOf(s), kind) << s;
    EXPECT_EQ(Contains(s, text), "");
    s = end.RecvInto(buffer, sizeof(buffer)).status();
    EXPECT_EQ(tubo::ErrorOf(s), kind) << s;
    EXPECT_EQ(Contains(s, text), "");
    s = end.Poll().status();
    EXPECT_EQ(tubo::ErrorOf(s), kind) << s;
  }
}

TEST(HostileInput, NegativeLengthIsBadLength) {
  tubo::ReadEnd end = ReaderOf(Header4(-5) + "hello");
  absl::Status s = end.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kBadLength) << s;
  EXPECT_EQ(Contains(s, "recv on fd " + std::to_string(end.fd().get()) + ":"), "");
  EXPECT_EQ(Contains(s, "bad message length -5"), "");
  ExpectSticky(end, tubo::Error::kBadLength, "bad message length -5");
}

TEST(HostileInput, MostNegativeLengthIsBadLengthForRecvInto) {
  tubo::ReadEnd end = ReaderOf(Header4(INT32_MIN));
  char buffer[4];
  absl::Status s = end.RecvInto(buffer, sizeof(buffer)).status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kBadLength) << s;
  ExpectSticky(end, tubo::Error::kBadLength, "bad message length");
}

TEST(HostileInput, LengthAboveTheMaximumIsTooLarge) {
  tubo::ReadEnd end = ReaderOf(Header4(INT32_MAX) + "abc");
  absl::Status s = end.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTooLarge) << s;
  ExpectSticky(end, tubo::Error::kTooLarge, "exceeds the maximum message size");
}

TEST(HostileInput, LengthAboveTheMaximumIsTooLargeForRecvInto) {
  tubo::ReadEnd end = ReaderOf(Header4(101));
  end.set_max_message_size(100);
  std::vector<char> buffer(1000);
  absl::Status s = end.RecvInto(buffer.data(), buffer.size()).status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTooLarge) << s;
  ExpectSticky(end, tubo::Error::kTooLarge, "message of 101 bytes");
}

TEST(HostileInput, EightByteFormAnnouncingTwoToTheSixtySecondIsTooLarge) {
  tubo::ReadEnd end = ReaderOf(Header12(uint64_t{1} << 62));
  absl::Status s = end.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTooLarge) << s;
  EXPECT_EQ(Contains(s, "message of 4611686018427387904 bytes"), "");
  ExpectSticky(end, tubo::Error::kTooLarge, "exceeds");
}

TEST(HostileInput, EightByteFormWithNoMaximumIsTruncatedAtEof) {
  tubo::ReadEnd end = ReaderOf(Header12(uint64_t{1} << 62) + "a few bytes");
  end.set_max_message_size(UINT64_MAX);
  absl::Status s = end.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  EXPECT_EQ(Contains(s, "payload"), "");
  ExpectSticky(end, tubo::Error::kTruncated, "payload");
}

TEST(HostileInput, EightByteFormForASmallMessageIsAccepted) {
  // CPython only writes this form above 2^31-1 bytes, but reads it for any size.
  tubo::ReadEnd end = ReaderOf(Header12(5) + "hello" + Header4(2) + "ok");
  absl::StatusOr<std::optional<tubo::Bytes>> m = end.Recv();
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->view(), "hello");
  m = end.Recv();
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->view(), "ok");
}

// Runs `body` in a child whose address space is limited to `limit` bytes, so
// any allocation near what a hostile header claims fails (bad_alloc makes
// the child exit 99). The parent feeds the child's read end `prefix`, then
// `filler` bytes, then end of stream.
void ExpectInBoundedChild(rlim_t limit, const std::string& prefix, size_t filler,
                          const std::function<int(tubo::ReadEnd&)>& body) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p->writer.Close().IgnoreError();
#ifndef TUBO_NO_RLIMIT_AS
    struct rlimit rl = {limit, limit};
    CHILD_CHECK(setrlimit(RLIMIT_AS, &rl) == 0, 10);
#else
    (void)limit;
#endif
    return body(p->reader);
  });
  ASSERT_TRUE(p->reader.Close().ok());
  const int fd = p->writer.fd().get();
  ASSERT_TRUE(WriteRaw(fd, prefix));
  const std::string chunk(1 << 16, 'z');
  for (size_t left = filler; left > 0;) {
    size_t n = std::min(left, chunk.size());
    ASSERT_TRUE(WriteRaw(fd, std::string_view(chunk.data(), n)));
    left -= n;
  }
  ASSERT_TRUE(p->writer.Close().ok());
  EXPECT_CHILD_OK(pid);
}

TEST(HostileInput, HugeHeaderWithNoMaximumAllocatesOnlyWhatArrives) {
  ExpectInBoundedChild(rlim_t{1} << 30, Header12(uint64_t{1} << 62), 4 << 20,
                       [](tubo::ReadEnd& end) {
                         end.set_max_message_size(UINT64_MAX);
                         absl::Status s = end.Recv().status();
                         CHILD_CHECK(tubo::ErrorOf(s) == tubo::Error::kTruncated, 2);
                         CHILD_CHECK(s.message().find("payload") != absl::string_view::npos, 3);
                         return 0;
                       });
}

TEST(HostileInput, HeaderJustUnderTheDefaultMaximumAllocatesOnlyWhatArrives) {
  // 1 GiB announced, 4 MiB sent, 256 MiB of address space to receive it in.
  ExpectInBoundedChild(rlim_t{256} << 20, Header4(1 << 30), 4 << 20, [](tubo::ReadEnd& end) {
    absl::Status s = end.Recv().status();
    CHILD_CHECK(tubo::ErrorOf(s) == tubo::Error::kTruncated, 2);
    return 0;
  });
}

// End of stream inside a 4-byte header.
class TruncatedHeader4 : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Bytes, TruncatedHeader4, ::testing::Values(1, 2, 3));

TEST_P(TruncatedHeader4, RecvIsTruncated) {
  const int got = GetParam();
  tubo::ReadEnd end = ReaderOf(Header4(4).substr(0, got));
  const std::string want = "recv on fd " + std::to_string(end.fd().get()) +
                           ": truncated message (" + std::to_string(got) + " of 4 header bytes)";
  absl::Status s = end.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  EXPECT_EQ(s.message(), want);
  ExpectSticky(end, tubo::Error::kTruncated, want);
}

TEST_P(TruncatedHeader4, RecvIntoIsTruncated) {
  const int got = GetParam();
  tubo::ReadEnd end = ReaderOf(Header4(4).substr(0, got));
  char buffer[8];
  absl::Status s = end.RecvInto(buffer, sizeof(buffer)).status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  ExpectSticky(end, tubo::Error::kTruncated, std::to_string(got) + " of 4 header bytes");
}

TEST_P(TruncatedHeader4, AfterACompleteMessage) {
  const int got = GetParam();
  tubo::ReadEnd end = ReaderOf(Header4(2) + "ok" + Header4(4).substr(0, got));
  absl::StatusOr<std::optional<tubo::Bytes>> m = end.Recv();
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->view(), "ok");
  ExpectSticky(end, tubo::Error::kTruncated, std::to_string(got) + " of 4 header bytes");
}

// End of stream inside the 8-byte length of a 12-byte header.
class TruncatedHeader12 : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Bytes, TruncatedHeader12, ::testing::Range(5, 12));

TEST_P(TruncatedHeader12, RecvIsTruncated) {
  const int got = GetParam();
  tubo::ReadEnd end = ReaderOf(Header12(3).substr(0, got));
  absl::Status s = end.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  EXPECT_EQ(Contains(s, "truncated message (" + std::to_string(got) + " of 12 header bytes)"), "");
  ExpectSticky(end, tubo::Error::kTruncated, "of 12 header bytes");
}

TEST_P(TruncatedHeader12, RecvIntoIsTruncated) {
  const int got = GetParam();
  tubo::ReadEnd end = ReaderOf(Header12(3).substr(0, got));
  char buffer[8];
  absl::Status s = end.RecvInto(buffer, sizeof(buffer)).status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  ExpectSticky(end, tubo::Error::kTruncated, std::to_string(got) + " of 12 header bytes");
}

TEST(HostileInput, FourByteHeaderWithNothingMoreIsTruncatedNotBadLength) {
  // ff ff ff ff alone: the 8-byte form begun, then end of stream.
  tubo::ReadEnd end = ReaderOf(Header4(-1));
  absl::Status s = end.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  EXPECT_EQ(Contains(s, "4 of 12 header bytes"), "");
}

// End of stream inside a payload, for payloads assembled in the read-ahead
// buffer, read straight into the caller's memory, and grown as they arrive.
class TruncatedPayload : public ::testing::TestWithParam<size_t> {};
INSTANTIATE_TEST_SUITE_P(Sizes, TruncatedPayload, ::testing::Values(2, 100, 40000, 70000, 1 << 20));

std::string CutShort(size_t size, size_t sent) {
  return Header4(static_cast<int32_t>(size)) + std::string(sent, 'p');
}

TEST_P(TruncatedPayload, RecvIsTruncated) {
  const size_t size = GetParam();
  const size_t sent = size / 2;
  // Through a child: the stream may exceed the pipe's capacity.
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p->reader.Close().IgnoreError();
    return WriteRaw(p->writer.fd().get(), CutShort(size, sent)) ? 0 : 2;
  });
  ASSERT_TRUE(p->writer.Close().ok());
  absl::Status s = p->reader.Recv().status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  EXPECT_EQ(
      Contains(s, "recv on fd " + std::to_string(p->reader.fd().get()) + ": truncated message (" +
                      std::to_string(sent) + " of " + std::to_string(size) + " payload bytes)"),
      "");
  ExpectSticky(p->reader, tubo::Error::kTruncated, "payload bytes");
  EXPECT_CHILD_OK(pid);
}

TEST_P(TruncatedPayload, RecvIntoIsTruncated) {
  const size_t size = GetParam();
  const size_t sent = size - 1;
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p->reader.Close().IgnoreError();
    return WriteRaw(p->writer.fd().get(), CutShort(size, sent)) ? 0 : 2;
  });
  ASSERT_TRUE(p->writer.Close().ok());
  std::vector<char> buffer(size);
  absl::Status s = p->reader.RecvInto(buffer.data(), buffer.size()).status();
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kTruncated) << s;
  EXPECT_EQ(Contains(s, std::to_string(sent) + " of " + std::to_string(size) + " payload bytes"),
            "");
  ExpectSticky(p->reader, tubo::Error::kTruncated, "payload bytes");
  EXPECT_CHILD_OK(pid);
}

TEST(HostileInput, TruncatedPayloadAfterATooSmallRecvInto) {
  tubo::ReadEnd end = ReaderOf(CutShort(10, 4));
  char small[2];
  absl::StatusOr<tubo::RecvResult> r = end.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->too_small());
  ExpectSticky(end, tubo::Error::kTruncated, "4 of 10 payload bytes");
}

TEST(HostileInput, ValidMessageThenGarbage) {
  tubo::ReadEnd end = ReaderOf(Header4(3) + "abc" + Header4(-2));
  absl::StatusOr<std::optional<tubo::Bytes>> m = end.Recv();
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->view(), "abc");
  ExpectSticky(end, tubo::Error::kBadLength, "bad message length -2");
}

}  // namespace
