// End of stream, RecvInto, Poll and half-close: the receive-side contracts
// of ReadEnd and DuplexEnd.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ExpectEof;
using tubo_test::ExpectMessage;
using tubo_test::ForkChild;
using tubo_test::IsPattern;
using tubo_test::NewDuplex;
using tubo_test::NewPipe;
using tubo_test::Pattern;

// End of stream

TEST(Eof, RecvReturnsNulloptAfterLastWriterClosesAndAgain) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("last").ok());
  ASSERT_TRUE(p.writer.Close().ok());
  ExpectMessage(p.reader.Recv(), "last");
  ExpectEof(p.reader.Recv());
  ExpectEof(p.reader.Recv());
}

TEST(Eof, RecvIntoReturnsKindEofAndAgain) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Close().ok());
  char buffer[8];
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(buffer, sizeof(buffer));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->kind, tubo::RecvResult::Kind::kEof);
    EXPECT_EQ(r->size, 0u);
  }
}

TEST(Eof, DestroyingTheWriterIsClosing) {
  tubo::Pipe p = NewPipe();
  { tubo::WriteEnd gone = std::move(p.writer); }
  ExpectEof(p.reader.Recv());
}

TEST(Eof, DuplexPeerCloseIsEof) {
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.second.Send("bye").ok());
  ASSERT_TRUE(d.second.Close().ok());
  ExpectMessage(d.first.Recv(), "bye");
  ExpectEof(d.first.Recv());
  ExpectEof(d.first.Recv());
}

TEST(Eof, DuplexPeerThatExitsWithUnreadDataIsStillEof) {
  // A peer that never reads what it was sent and exits: its replies arrive,
  // then end of stream (not a connection-reset error).
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.first.Send("never read").ok());
  pid_t pid = ForkChild([&] {
    d.first.Close().IgnoreError();
    CHILD_CHECK(d.second.Send("reply").ok(), 2);
    return 0;
  });
  ASSERT_TRUE(d.second.Close().ok());
  ExpectMessage(d.first.Recv(), "reply");
  ExpectEof(d.first.Recv());
  ExpectEof(d.first.Recv());
  EXPECT_CHILD_OK(pid);
}

TEST(Eof, NotBeforeAForkedChildClosesItsCopyOfTheWriter) {
  tubo::Pipe p = NewPipe();
  tubo::Pipe go = NewPipe();  // the parent tells the child when to finish
  pid_t pid = ForkChild([&] {
    p.reader.Close().IgnoreError();
    go.writer.Close().IgnoreError();
    absl::StatusOr<std::optional<tubo::Bytes>> m = go.reader.Recv();
    CHILD_CHECK(m.ok(), 2);
    CHILD_CHECK(p.writer.Send("from child").ok(), 3);
    return 0;  // _exit closes the child's copy of the write end
  });
  go.reader.Close().IgnoreError();
  ASSERT_TRUE(p.writer.Close().ok());  // the parent's copy only
  // The child still holds a write end: no EOF, nothing to read.
  absl::StatusOr<bool> ready = p.reader.Poll(absl::Milliseconds(100));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
  ASSERT_TRUE(go.writer.Send("go").ok());
  ExpectMessage(p.reader.Recv(), "from child");
  ExpectEof(p.reader.Recv());
  EXPECT_CHILD_OK(pid);
}

TEST(Eof, ADuplicateOfTheWriterKeepsTheStreamOpen) {
  tubo::Pipe p = NewPipe();
  tubo::OwnedFd copy = tubo::OwnedFd::Adopt(::fcntl(p.writer.fd().get(), F_DUPFD_CLOEXEC, 3));
  ASSERT_TRUE(copy.valid());
  tubo::WriteEnd second(std::move(copy));
  ASSERT_TRUE(p.writer.Close().ok());
  absl::StatusOr<bool> ready = p.reader.Poll();
  ASSERT_TRUE(ready.ok());
  EXPECT_FALSE(*ready);
  ASSERT_TRUE(second.Close().ok());
  ExpectEof(p.reader.Recv());
}

// RecvInto

TEST(RecvInto, MessageThatFits) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("hello").ok());
  char buffer[16];
  absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(buffer, sizeof(buffer));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, tubo::RecvResult::Kind::kMessage);
  ASSERT_EQ(r->size, 5u);
  EXPECT_EQ(std::string_view(buffer, 5), "hello");
}

TEST(RecvInto, TooSmallReportsTheSizeAndRecvThenReturnsTheMessage) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("0123456789").ok());
  ASSERT_TRUE(p.writer.Send("next").ok());
  char buffer[4];
  absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(buffer, sizeof(buffer));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, tubo::RecvResult::Kind::kTooSmall);
  EXPECT_EQ(r->size, 10u);
  ExpectMessage(p.reader.Recv(), "0123456789");
  ExpectMessage(p.reader.Recv(), "next");
}

TEST(RecvInto, TooSmallThenABiggerBufferReturnsTheMessage) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("0123456789").ok());
  char small[3];
  absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok() && r->too_small());
  // Asking again with the same buffer still reports it, still intact.
  r = p.reader.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok() && r->too_small());
  EXPECT_EQ(r->size, 10u);
  std::vector<char> big(r->size);
  r = p.reader.RecvInto(big.data(), big.size());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->message());
  EXPECT_EQ(std::string_view(big.data(), r->size), "0123456789");
}

TEST(RecvInto, TooSmallForALargeMessageFromAnotherProcessLosesNothing) {
  const size_t size = (1 << 20) + 7;
  tubo::Pipe p = NewPipe();
  pid_t pid = ForkChild([&] {
    p.reader.Close().IgnoreError();
    CHILD_CHECK(p.writer.Send(Pattern(size, 3)).ok(), 2);
    CHILD_CHECK(p.writer.Send("after").ok(), 3);
    return 0;
  });
  ASSERT_TRUE(p.writer.Close().ok());
  char small[100];
  absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->too_small());
  EXPECT_EQ(r->size, size);
  std::vector<char> big(size);
  r = p.reader.RecvInto(big.data(), big.size());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->message());
  ASSERT_EQ(r->size, size);
  EXPECT_TRUE(IsPattern(std::string_view(big.data(), size), 3));
  ExpectMessage(p.reader.Recv(), "after");
  ExpectEof(p.reader.Recv());
  EXPECT_CHILD_OK(pid);
}

TEST(RecvInto, ZeroCapacityReceivesAnEmptyMessage) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("").ok());
  ASSERT_TRUE(p.writer.Send("x").ok());
  absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(nullptr, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, tubo::RecvResult::Kind::kMessage);
  EXPECT_EQ(r->size, 0u);
  r = p.reader.RecvInto(nullptr, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->too_small());
  EXPECT_EQ(r->size, 1u);
}

TEST(RecvInto, WorksOnDuplexEnds) {
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.first.Send("abcdef").ok());
  char buffer[2];
  absl::StatusOr<tubo::RecvResult> r = d.second.RecvInto(buffer, sizeof(buffer));
  ASSERT_TRUE(r.ok() && r->too_small());
  EXPECT_EQ(r->size, 6u);
  ExpectMessage(d.second.Recv(), "abcdef");
}

// Poll

TEST(Poll, FalseWithNothingToReadAfterTheTimeout) {
  tubo::Pipe p = NewPipe();
  const absl::Time start = absl::Now();
  absl::StatusOr<bool> ready = p.reader.Poll(absl::Milliseconds(50));
  const absl::Duration waited = absl::Now() - start;
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
  EXPECT_GE(waited, absl::Milliseconds(45));  // it did wait (allowing clock rounding)
}

TEST(Poll, ZeroTimeoutOnlyLooks) {
  tubo::Pipe p = NewPipe();
  absl::StatusOr<bool> ready = p.reader.Poll(absl::ZeroDuration());
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
  ready = p.reader.Poll();  // the default
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
  ASSERT_TRUE(p.writer.Send("x").ok());
  ready = p.reader.Poll();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(*ready);
  // Looking does not consume.
  ExpectMessage(p.reader.Recv(), "x");
}

TEST(Poll, TrueWhenAnotherProcessSendsWithinTheTimeout) {
  tubo::Pipe p = NewPipe();
  pid_t pid = ForkChild([&] {
    p.reader.Close().IgnoreError();
    ::usleep(100 * 1000);
    CHILD_CHECK(p.writer.Send("late").ok(), 2);
    return 0;
  });
  ASSERT_TRUE(p.writer.Close().ok());
  absl::StatusOr<bool> ready = p.reader.Poll(absl::Seconds(30));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(*ready);
  ExpectMessage(p.reader.Recv(), "late");
  EXPECT_CHILD_OK(pid);
}

TEST(Poll, InfiniteTimeoutWaitsForData) {
  tubo::DuplexPipe d = NewDuplex();
  pid_t pid = ForkChild([&] {
    d.first.Close().IgnoreError();
    ::usleep(50 * 1000);
    CHILD_CHECK(d.second.Send("late").ok(), 2);
    return 0;
  });
  ASSERT_TRUE(d.second.Close().ok());
  absl::StatusOr<bool> ready = d.first.Poll(absl::InfiniteDuration());
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(*ready);
  ExpectMessage(d.first.Recv(), "late");
  EXPECT_CHILD_OK(pid);
}

TEST(Poll, TrueAtEof) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Close().ok());
  absl::StatusOr<bool> ready = p.reader.Poll(absl::Seconds(30));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(*ready);
  ExpectEof(p.reader.Recv());
  ready = p.reader.Poll();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(*ready);
}

TEST(Poll, TrueWhenTheNextMessageIsAlreadyReadAhead) {
  // Both frames arrive in one read; the pipe is then empty, but the second
  // message is waiting in the end's buffer.
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.Send("one").ok());
  ASSERT_TRUE(p.writer.Send("two").ok());
  ExpectMessage(p.reader.Recv(), "one");
  absl::StatusOr<bool> ready = p.reader.Poll();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(*ready);
  ExpectMessage(p.reader.Recv(), "two");
  ready = p.reader.Poll();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
}

TEST(Poll, TrueAfterRecvIntoTooSmallEvenWithThePayloadNotYetArrived) {
  // Only the header has arrived; a receive call would not wait for a first
  // byte (RecvInto with the same buffer answers kTooSmall at once).
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(tubo_test::WriteRaw(p.writer.fd().get(), tubo_test::Header4(100)));
  char small[10];
  absl::StatusOr<tubo::RecvResult> r = p.reader.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok() && r->too_small());
  absl::StatusOr<bool> ready = p.reader.Poll();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(*ready);
}

// Half-close

TEST(HalfClose, PeerSeesEofAndCanStillReply) {
  tubo::DuplexPipe d = NewDuplex();
  pid_t pid = ForkChild([&] {
    d.first.Close().IgnoreError();
    int count = 0;
    for (;;) {
      absl::StatusOr<std::optional<tubo::Bytes>> m = d.second.Recv();
      CHILD_CHECK(m.ok(), 2);
      if (!m->has_value()) break;
      ++count;
    }
    // After the EOF it still sends its answer.
    CHILD_CHECK(d.second.Send("got " + std::to_string(count)).ok(), 3);
    return 0;
  });
  ASSERT_TRUE(d.second.Close().ok());
  ASSERT_TRUE(d.first.Send("a").ok());
  ASSERT_TRUE(d.first.Send("b").ok());
  ASSERT_TRUE(d.first.CloseWrite().ok());
  ExpectMessage(d.first.Recv(), "got 2");
  ExpectEof(d.first.Recv());
  EXPECT_CHILD_OK(pid);
}

TEST(HalfClose, SendAfterCloseWriteFailsWithClosed) {
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.first.CloseWrite().ok());
  absl::Status s = d.first.Send("too late");
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kClosed) << s;
  EXPECT_TRUE(d.first.is_open());
  ExpectEof(d.second.Recv());
}

TEST(HalfClose, CloseWriteTwiceIsFine) {
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.first.CloseWrite().ok());
  EXPECT_TRUE(d.first.CloseWrite().ok());
}

TEST(HalfClose, CloseWriteFlushesBufferedMessages) {
  tubo::DuplexPipe d = NewDuplex();
  ASSERT_TRUE(d.first.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(d.first.Send("held").ok());
  ASSERT_TRUE(d.first.CloseWrite().ok());
  ExpectMessage(d.second.Recv(), "held");
  ExpectEof(d.second.Recv());
}

TEST(HalfClose, CloseWriteOfAClosedEndFailsWithClosed) {
  tubo::DuplexEnd end;
  EXPECT_EQ(tubo::ErrorOf(end.CloseWrite()), tubo::Error::kClosed);
}

}  // namespace
