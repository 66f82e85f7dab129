// Send buffering: messages collect in user space until Flush, overflow,
// Close, destruction, or a shrinking buffer, and always leave in order.
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ExpectEof;
using tubo_test::ExpectMessage;
using tubo_test::ForkChild;
using tubo_test::IsPattern;
using tubo_test::NewPipe;
using tubo_test::Pattern;

// True if `end` has something to receive right now.
template <typename End>
bool Readable(End& end) {
  absl::StatusOr<bool> ready = end.Poll();
  return ready.ok() && *ready;
}

TEST(BufferedSend, UnbufferedByDefault) {
  tubo::Pipe p = NewPipe();
  EXPECT_EQ(p.writer.send_buffer_size(), 0u);
  ASSERT_TRUE(p.writer.Send("at once").ok());
  EXPECT_TRUE(Readable(p.reader));
}

TEST(BufferedSend, MessagesWaitForFlushThenArriveInOrder) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  EXPECT_EQ(p.writer.send_buffer_size(), tubo::kDefaultSendBufferSize);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p.writer.Send("m" + std::to_string(i)).ok());
  ASSERT_TRUE(p.writer.Send("").ok());
  EXPECT_FALSE(Readable(p.reader));
  ASSERT_TRUE(p.writer.Flush().ok());
  EXPECT_TRUE(Readable(p.reader));
  for (int i = 0; i < 100; ++i) ExpectMessage(p.reader.Recv(), "m" + std::to_string(i));
  ExpectMessage(p.reader.Recv(), "");
  EXPECT_FALSE(Readable(p.reader));
}

TEST(BufferedSend, FlushOfAnEmptyBufferIsFine) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(64).ok());
  EXPECT_TRUE(p.writer.Flush().ok());
  EXPECT_FALSE(Readable(p.reader));
}

TEST(BufferedSend, OverflowSendsWhatWasHeldFirst) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(64).ok());
  ASSERT_TRUE(p.writer.Send("first").ok());   // 9 bytes framed
  ASSERT_TRUE(p.writer.Send("second").ok());  // 10
  EXPECT_FALSE(Readable(p.reader));
  ASSERT_TRUE(p.writer.Send(std::string(60, 'x')).ok());  // does not fit: all leave
  EXPECT_TRUE(Readable(p.reader));
  ExpectMessage(p.reader.Recv(), "first");
  ExpectMessage(p.reader.Recv(), "second");
  ExpectMessage(p.reader.Recv(), std::string(60, 'x'));
  EXPECT_FALSE(Readable(p.reader));
}

TEST(BufferedSend, MessageLargerThanTheBufferArrivesAfterEarlierOnes) {
  const size_t big = 3 * tubo::kDefaultSendBufferSize + 11;
  tubo::Pipe p = NewPipe();
  pid_t pid = ForkChild([&] {
    p.reader.Close().IgnoreError();
    CHILD_CHECK(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok(), 2);
    CHILD_CHECK(p.writer.Send("a").ok(), 3);
    CHILD_CHECK(p.writer.Send("b").ok(), 4);
    CHILD_CHECK(p.writer.Send(Pattern(big, 1)).ok(), 5);
    CHILD_CHECK(p.writer.Send("c").ok(), 6);
    CHILD_CHECK(p.writer.Close().ok(), 7);
    return 0;
  });
  ASSERT_TRUE(p.writer.Close().ok());
  ExpectMessage(p.reader.Recv(), "a");
  ExpectMessage(p.reader.Recv(), "b");
  absl::StatusOr<std::optional<tubo::Bytes>> m = p.reader.Recv();
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->size(), big);
  EXPECT_TRUE(IsPattern((*m)->view(), 1));
  ExpectMessage(p.reader.Recv(), "c");
  ExpectEof(p.reader.Recv());
  EXPECT_CHILD_OK(pid);
}

TEST(BufferedSend, CloseFlushes) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(p.writer.Send("held").ok());
  EXPECT_FALSE(Readable(p.reader));
  ASSERT_TRUE(p.writer.Close().ok());
  ExpectMessage(p.reader.Recv(), "held");
  ExpectEof(p.reader.Recv());
}

TEST(BufferedSend, DestructorFlushes) {
  tubo::Pipe p = NewPipe();
  {
    tubo::WriteEnd writer = std::move(p.writer);
    ASSERT_TRUE(writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
    ASSERT_TRUE(writer.Send("held").ok());
    EXPECT_FALSE(Readable(p.reader));
  }
  ExpectMessage(p.reader.Recv(), "held");
  ExpectEof(p.reader.Recv());
}

TEST(BufferedSend, DuplexDestructorFlushes) {
  absl::StatusOr<tubo::DuplexPipe> d = tubo::DuplexPipe::Create();
  ASSERT_TRUE(d.ok());
  {
    tubo::DuplexEnd end = std::move(d->first);
    ASSERT_TRUE(end.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
    ASSERT_TRUE(end.Send("held").ok());
    EXPECT_FALSE(Readable(d->second));
  }
  ExpectMessage(d->second.Recv(), "held");
  ExpectEof(d->second.Recv());
}

TEST(BufferedSend, MoveAssignmentOntoABufferedEndFlushesIt) {
  tubo::Pipe p = NewPipe();
  tubo::Pipe other = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(p.writer.Send("held").ok());
  p.writer = std::move(other.writer);
  ExpectMessage(p.reader.Recv(), "held");
  ExpectEof(p.reader.Recv());
}

TEST(BufferedSend, MovingTheEndKeepsTheBufferedMessages) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(p.writer.Send("held").ok());
  tubo::WriteEnd moved = std::move(p.writer);
  EXPECT_EQ(moved.send_buffer_size(), tubo::kDefaultSendBufferSize);
  EXPECT_FALSE(Readable(p.reader));
  ASSERT_TRUE(moved.Flush().ok());
  ExpectMessage(p.reader.Recv(), "held");
}

TEST(BufferedSend, ShrinkingBelowWhatIsHeldFlushes) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(p.writer.Send(std::string(100, 'a')).ok());
  ASSERT_TRUE(p.writer.Send(std::string(100, 'b')).ok());
  EXPECT_FALSE(Readable(p.reader));
  ASSERT_TRUE(p.writer.SetSendBufferSize(16).ok());
  EXPECT_EQ(p.writer.send_buffer_size(), 16u);
  EXPECT_TRUE(Readable(p.reader));
  ExpectMessage(p.reader.Recv(), std::string(100, 'a'));
  ExpectMessage(p.reader.Recv(), std::string(100, 'b'));
}

TEST(BufferedSend, TurningBufferingOffFlushes) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok());
  ASSERT_TRUE(p.writer.Send("held").ok());
  ASSERT_TRUE(p.writer.SetSendBufferSize(0).ok());
  ExpectMessage(p.reader.Recv(), "held");
  ASSERT_TRUE(p.writer.Send("direct").ok());
  ExpectMessage(p.reader.Recv(), "direct");
}

TEST(BufferedSend, ResizingKeepsHeldMessagesThatFit) {
  tubo::Pipe p = NewPipe();
  ASSERT_TRUE(p.writer.SetSendBufferSize(1024).ok());
  ASSERT_TRUE(p.writer.Send("one").ok());
  ASSERT_TRUE(p.writer.SetSendBufferSize(4096).ok());
  ASSERT_TRUE(p.writer.Send("two").ok());
  ASSERT_TRUE(p.writer.SetSendBufferSize(512).ok());
  ASSERT_TRUE(p.writer.Flush().ok());
  ExpectMessage(p.reader.Recv(), "one");
  ExpectMessage(p.reader.Recv(), "two");
}

TEST(BufferedSend, ManyMessagesFromAChildArriveInOrder) {
  constexpr int kCount = 20000;
  tubo::Pipe p = NewPipe();
  pid_t pid = ForkChild([&] {
    p.reader.Close().IgnoreError();
    CHILD_CHECK(p.writer.SetSendBufferSize(tubo::kDefaultSendBufferSize).ok(), 2);
    for (int i = 0; i < kCount; ++i) {
      CHILD_CHECK(p.writer.Send(std::string(i % 300, static_cast<char>(i))).ok(), 3);
    }
    CHILD_CHECK(p.writer.Close().ok(), 4);
    return 0;
  });
  ASSERT_TRUE(p.writer.Close().ok());
  for (int i = 0; i < kCount; ++i) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = p.reader.Recv();
    ASSERT_TRUE(m.ok() && m->has_value()) << i << " " << m.status();
    ASSERT_EQ((*m)->view(), std::string(i % 300, static_cast<char>(i))) << i;
  }
  ExpectEof(p.reader.Recv());
  EXPECT_CHILD_OK(pid);
}

}  // namespace
