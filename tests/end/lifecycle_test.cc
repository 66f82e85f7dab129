// Closed, moved-from and released ends, and the per-end maximum message size.
#include <fcntl.h>

#include <string>
#include <type_traits>

#include "absl/strings/cord.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ExpectMessage;
using tubo_test::IsClosed;
using tubo_test::IsOpen;
using tubo_test::NewDuplex;
using tubo_test::NewPipe;

// Every operation of a closed end fails with Error::kClosed.
void ExpectAllClosed(tubo::ReadEnd& end) {
  char buffer[4];
  EXPECT_FALSE(end.is_open());
  EXPECT_EQ(end.fd().get(), -1);
  EXPECT_EQ(tubo::ErrorOf(end.Recv().status()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.RecvInto(buffer, sizeof(buffer)).status()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Poll().status()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Release().status()), tubo::Error::kClosed);
  EXPECT_TRUE(end.Close().ok());
}

void ExpectAllClosed(tubo::WriteEnd& end) {
  EXPECT_FALSE(end.is_open());
  EXPECT_EQ(end.fd().get(), -1);
  EXPECT_EQ(tubo::ErrorOf(end.Send("x")), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Flush()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.SetSendBufferSize(16)), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Release().status()), tubo::Error::kClosed);
  EXPECT_TRUE(end.Close().ok());
}

void ExpectAllClosed(tubo::DuplexEnd& end) {
  char buffer[4];
  EXPECT_FALSE(end.is_open());
  EXPECT_EQ(end.fd().get(), -1);
  EXPECT_EQ(tubo::ErrorOf(end.Send("x")), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Flush()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.SetSendBufferSize(16)), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Recv().status()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.RecvInto(buffer, sizeof(buffer)).status()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Poll().status()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.CloseWrite()), tubo::Error::kClosed);
  EXPECT_EQ(tubo::ErrorOf(end.Release().status()), tubo::Error::kClosed);
  EXPECT_TRUE(end.Close().ok());
}

TEST(ClosedEnd, DefaultConstructedEndsAreClosed) {
  tubo::ReadEnd r;
  tubo::WriteEnd w;
  tubo::DuplexEnd d;
  ExpectAllClosed(r);
  ExpectAllClosed(w);
  ExpectAllClosed(d);
}

TEST(ClosedEnd, MovedFromEndsAreClosed) {
  tubo::Pipe p = NewPipe();
  tubo::DuplexPipe d = NewDuplex();
  tubo::ReadEnd r = std::move(p.reader);
  tubo::WriteEnd w = std::move(p.writer);
  tubo::DuplexEnd e = std::move(d.first);
  ExpectAllClosed(p.reader);
  ExpectAllClosed(p.writer);
  ExpectAllClosed(d.first);
  // The new owners work.
  ASSERT_TRUE(w.Send("moved").ok());
  ExpectMessage(r.Recv(), "moved");
  ASSERT_TRUE(e.Send("moved too").ok());
  ExpectMessage(d.second.Recv(), "moved too");
}

TEST(ClosedEnd, MovedFromAfterCloseWriteIsClosed) {
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.first.CloseWrite().ok());
  tubo::DuplexEnd e = std::move(d.first);
  ExpectAllClosed(d.first);
  EXPECT_EQ(tubo::ErrorOf(e.Send("x")), tubo::Error::kClosed);  // still shut
}

TEST(ClosedEnd, ClosedEndsAreClosedAndCloseTwiceIsFine) {
  tubo::Pipe p = NewPipe();
  tubo::DuplexPipe d = NewDuplex();
  const int r = p.reader.fd().get(), w = p.writer.fd().get(), e = d.first.fd().get();
  EXPECT_TRUE(p.reader.Close().ok());
  EXPECT_TRUE(p.writer.Close().ok());
  EXPECT_TRUE(d.first.Close().ok());
  EXPECT_TRUE(IsClosed(r));
  EXPECT_TRUE(IsClosed(w));
  EXPECT_TRUE(IsClosed(e));
  ExpectAllClosed(p.reader);
  ExpectAllClosed(p.writer);
  ExpectAllClosed(d.first);
}

TEST(ClosedEnd, MoveAssignmentClosesTheTargetsDescriptor) {
  tubo::Pipe a = NewPipe();
  tubo::Pipe b = NewPipe();
  const int old_reader = a.reader.fd().get(), old_writer = a.writer.fd().get();
  a.reader = std::move(b.reader);
  a.writer = std::move(b.writer);
  EXPECT_TRUE(IsClosed(old_reader));
  EXPECT_TRUE(IsClosed(old_writer));
  ASSERT_TRUE(a.writer.Send("b's pipe").ok());
  ExpectMessage(a.reader.Recv(), "b's pipe");
}

TEST(Release, ReadEndGivesUpItsDescriptorAndIsClosed) {
  tubo::Pipe p = NewPipe();
  const int raw = p.reader.fd().get();
  absl::StatusOr<tubo::OwnedFd> fd = p.reader.Release();
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(fd->get(), raw);
  ExpectAllClosed(p.reader);
  EXPECT_TRUE(IsOpen(raw));
  // The descriptor still carries the stream.
  tubo::ReadEnd again(std::move(*fd));
  ASSERT_TRUE(p.writer.Send("still here").ok());
  ExpectMessage(again.Recv(), "still here");
}

TEST(Release, WriteEndGivesUpItsDescriptorAndIsClosed) {
  tubo::Pipe p = NewPipe();
  const int raw = p.writer.fd().get();
  absl::StatusOr<tubo::OwnedFd> fd = p.writer.Release();
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(fd->get(), raw);
  ExpectAllClosed(p.writer);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(Release, WriteEndFlushesFirst) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(p.writer.Send("buffered").ok());
  absl::StatusOr<tubo::OwnedFd> fd = p.writer.Release();
  ASSERT_TRUE(fd.ok()) << fd.status();
  ExpectMessage(p.reader.Recv(), "buffered");
}

TEST(Release, DuplexEndGivesUpItsDescriptorAndIsClosed) {
  tubo::DuplexPipe d = NewDuplex();
  const int raw = d.first.fd().get();
  absl::StatusOr<tubo::OwnedFd> fd = d.first.Release();
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(fd->get(), raw);
  ExpectAllClosed(d.first);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(Release, ReadEndWithReadAheadBytesFailsAndLosesNothing) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("one").ok());
  ASSERT_TRUE(p.writer.Send("two").ok());
  ExpectMessage(p.reader.Recv(), "one");  // "two" is now read ahead
  absl::StatusOr<tubo::OwnedFd> fd = p.reader.Release();
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kFailedPrecondition) << fd.status();
  EXPECT_TRUE(p.reader.is_open());
  ExpectMessage(p.reader.Recv(), "two");
  // With nothing read ahead any more, it may go.
  EXPECT_TRUE(p.reader.Release().ok());
}

TEST(Release, ReadEndWithAPendingHeaderFails) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("0123456789").ok());
  char small[2];
  absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok() && r->too_small());
  EXPECT_FALSE(p.reader.Release().ok());
  ExpectMessage(p.reader.Recv(), "0123456789");
}

TEST(Release, DuplexEndWithReadAheadBytesFailsAndLosesNothing) {
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.second.Send("one").ok());
  ASSERT_TRUE(d.second.Send("two").ok());
  ExpectMessage(d.first.Recv(), "one");
  absl::StatusOr<tubo::OwnedFd> fd = d.first.Release();
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kFailedPrecondition) << fd.status();
  ExpectMessage(d.first.Recv(), "two");
}

// Maximum message size

TEST(MaxMessageSize, DefaultIsOneGiB) {
  tubo::Pipe p = NewPipe();
  EXPECT_EQ(p.reader.max_message_size(), tubo::kDefaultMaxMessageSize);
  EXPECT_EQ(tubo::kDefaultMaxMessageSize, uint64_t{1} << 30);
  tubo::DuplexPipe d = NewDuplex();
  EXPECT_EQ(d.first.max_message_size(), tubo::kDefaultMaxMessageSize);
}

TEST(MaxMessageSize, MessageOfExactlyTheMaximumIsAccepted) {
  tubo::Pipe p = NewPipe();
  p.reader.set_max_message_size(10);
  EXPECT_EQ(p.reader.max_message_size(), 10u);
  ASSERT_TRUE(p.writer.Send("0123456789").ok());
  ExpectMessage(p.reader.Recv(), "0123456789");
}

TEST(MaxMessageSize, LargerMessageIsTooLargeAndStaysSo) {
  tubo::Pipe p = NewPipe();
  p.reader.set_max_message_size(10);
  ASSERT_TRUE(p.writer.Send("0123456789A").ok());
  ASSERT_TRUE(p.writer.Send("ok").ok());
  absl::StatusOr<std::optional<tubo::Bytes>> m = p.reader.Recv();
  EXPECT_EQ(tubo::ErrorOf(m.status()), tubo::Error::kTooLarge) << m.status();
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
  char buffer[64];
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(tubo::ErrorOf(p.reader.Recv().status()), tubo::Error::kTooLarge);
    EXPECT_EQ(tubo::ErrorOf(p.reader.RecvInto(buffer, sizeof(buffer)).status()),
              tubo::Error::kTooLarge);
    EXPECT_EQ(tubo::ErrorOf(p.reader.Poll().status()), tubo::Error::kTooLarge);
  }
}

TEST(MaxMessageSize, RecvIntoOfALargerMessageIsTooLarge) {
  tubo::DuplexPipe d = NewDuplex();
  d.first.set_max_message_size(3);
  ASSERT_TRUE(d.second.Send("four").ok());
  char buffer[64];
  absl::StatusOr<tubo::RecvResult> r = d.first.RecvInto(buffer, sizeof(buffer));
  EXPECT_EQ(tubo::ErrorOf(r.status()), tubo::Error::kTooLarge) << r.status();
  EXPECT_EQ(tubo::ErrorOf(d.first.Recv().status()), tubo::Error::kTooLarge);
  EXPECT_EQ(tubo::ErrorOf(d.first.Poll().status()), tubo::Error::kTooLarge);
}

TEST(MaxMessageSize, TravelsWithAMovedEnd) {
  tubo::Pipe p = NewPipe();
  p.reader.set_max_message_size(2);
  tubo::ReadEnd moved = std::move(p.reader);
  EXPECT_EQ(moved.max_message_size(), 2u);
  ASSERT_TRUE(p.writer.Send("abc").ok());
  EXPECT_EQ(tubo::ErrorOf(moved.Recv().status()), tubo::Error::kTooLarge);
}

TEST(MaxMessageSize, TheErrorNamesTheEndAndTheSizes) {
  tubo::Pipe p = NewPipe();
  p.reader.set_max_message_size(3);
  ASSERT_TRUE(p.writer.Send("four").ok());
  absl::Status s = p.reader.Recv().status();
  const std::string prefix = "recv on fd " + std::to_string(p.reader.fd().get()) + ":";
  EXPECT_NE(s.message().find(prefix), std::string::npos) << s;
  EXPECT_NE(s.message().find("message of 4 bytes exceeds the maximum message size of 3 bytes"),
            std::string::npos)
      << s;
}

}  // namespace

// The one table of error kinds: every kind has a name, a meaning, and the
// value it is listed with; a value outside the table is "unknown".
TEST(ErrorKinds, TheTableGivesEachKindItsNameMeaningAndValue) {
  int count = 0;
#define TUBO_CHECK_KIND(kind, value, c_name, name, meaning)                              \
  EXPECT_EQ(static_cast<int>(tubo::Error::kind), value);                                 \
  EXPECT_STREQ(tubo::ErrorName(tubo::Error::kind), name);                                \
  EXPECT_STREQ(tubo::ErrorMeaning(tubo::Error::kind), meaning);                          \
  EXPECT_EQ(tubo::ErrorOf(tubo::WithError(absl::InternalError("x"), tubo::Error::kind)), \
            tubo::Error::kind);                                                          \
  ++count;
  TUBO_ERROR_KINDS(TUBO_CHECK_KIND)
#undef TUBO_CHECK_KIND
  EXPECT_GE(count, 11);
  EXPECT_STREQ(tubo::ErrorName(static_cast<tubo::Error>(count + 1)), "unknown");
  EXPECT_STREQ(tubo::ErrorMeaning(static_cast<tubo::Error>(count + 1)), "");
  // A payload naming a value outside the table is not trusted.
  absl::Status forged = absl::InternalError("x");
  forged.SetPayload("type.tubo.dev/tubo.Error", absl::Cord(std::to_string(count + 1)));
  EXPECT_EQ(tubo::ErrorOf(forged), tubo::Error::kOther);
}
