// Receiving with a deadline (RecvFor, RecvIntoFor): a timeout anywhere in a
// frame keeps every byte read, and the next receive continues the frame; and
// a maximum message size lowered after a header was read applies to it.
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <future>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::Header12;
using tubo_test::Header4;
using tubo_test::IsPattern;
using tubo_test::Pattern;
using tubo_test::WriteRaw;

// A peer on its own thread: writes `first` to `fd`, stalls until Resume(),
// then writes `rest`.
class StallingPeer {
 public:
  StallingPeer(int fd, std::string first, std::string rest)
      : first_(std::move(first)), rest_(std::move(rest)) {
    stalled_future_ = stalled_.get_future();
    resume_future_ = resume_.get_future();
    thread_ = std::thread([this, fd] {
      bool ok = WriteRaw(fd, first_);
      stalled_.set_value();
      resume_future_.wait();
      ok = ok && WriteRaw(fd, rest_);
      ok_ = ok;
    });
  }
  ~StallingPeer() { Join(); }
  // True once `first` is written whole (it is then in the pipe, or read).
  bool stalled() const {
    return stalled_future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  void Resume() {
    if (!resumed_) {
      resumed_ = true;
      resume_.set_value();
    }
  }
  void Join() {
    Resume();
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return ok_; }

 private:
  std::string first_, rest_;
  std::promise<void> stalled_, resume_;
  std::future<void> stalled_future_, resume_future_;
  bool resumed_ = false;
  bool ok_ = false;
  std::thread thread_;
};

void ExpectTimeout(const absl::Status& status, int fd) {
  EXPECT_EQ(tubo::ErrorOf(status), tubo::Error::kTimeout) << status;
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_NE(status.message().find(absl::StrCat("fd ", fd)), std::string_view::npos) << status;
}

// How the test receives: the timed call used while the peer stalls, and the
// untimed call that takes the message after it resumes.
enum class Mode {
  kRecvThenRecv,          // RecvFor, then Recv
  kRecvIntoThenRecvInto,  // RecvIntoFor into one buffer, then RecvInto into another
  kRecvIntoThenRecv,      // RecvIntoFor, then Recv
  kRecvThenRecvInto,      // RecvFor, then RecvInto
};

struct Split {
  const char* name;
  std::string header;
  size_t payload;
  size_t cut;  // bytes of header + payload written before the stall
};

std::vector<Split> Splits() {
  return {
      {"HalfAHeader", Header4(10), 10, 2},
      {"HalfALongHeader", Header12(10), 10, 6},
      {"HalfASmallPayload", Header4(1000), 1000, 4 + 500},
      {"HalfAMediumPayload", Header4(48 * 1024), 48 * 1024, 4 + 20 * 1024},
      {"HalfALargePayload", Header4(4 << 20), 4 << 20, 4 + (2 << 20)},
  };
}

// Times out while the peer stalls (at least once after the first part is
// wholly written, so the receive has taken all of it), checking that the
// partial frame neither shows as ready nor is lost.
template <typename End>
void TimeOutWhileStalled(End& end, StallingPeer& peer, Mode mode, std::vector<char>& first_buf) {
  const int fd = end.fd().get();
  auto timed = [&](absl::Duration timeout) -> absl::Status {
    if (mode == Mode::kRecvThenRecv || mode == Mode::kRecvThenRecvInto) {
      absl::StatusOr<std::optional<tubo::Bytes>> m = end.RecvFor(timeout);
      return m.status();
    }
    absl::StatusOr<tubo::RecvResult> r =
        end.RecvIntoFor(first_buf.data(), first_buf.size(), timeout);
    return r.status();
  };
  bool saw_stalled = false;
  for (int i = 0; i < 100000 && !saw_stalled; ++i) {
    saw_stalled = peer.stalled();
    absl::Status s = timed(absl::Milliseconds(saw_stalled ? 50 : 5));
    ASSERT_FALSE(s.ok()) << "a message arrived from a stalled peer";
    ExpectTimeout(s, fd);
  }
  ASSERT_TRUE(saw_stalled);
  // Zero only takes what arrived: still nothing whole.
  ExpectTimeout(timed(absl::ZeroDuration()), fd);
  // A partial frame with nothing more to read is not ready.
  absl::StatusOr<bool> ready = end.Poll();
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
}

template <typename End>
void ReceiveAfterResume(End& end, Mode mode, size_t size) {
  if (mode == Mode::kRecvThenRecv || mode == Mode::kRecvIntoThenRecv) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = end.Recv();
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(m->has_value());
    ASSERT_EQ((*m)->size(), size);
    EXPECT_TRUE(IsPattern((*m)->view(), 5));
  } else {
    std::vector<char> other(size + 3);  // another buffer than the timed call's
    absl::StatusOr<tubo::RecvResult> r = end.RecvInto(other.data(), other.size());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->message());
    ASSERT_EQ(r->size, size);
    EXPECT_TRUE(IsPattern(std::string_view(other.data(), size), 5));
  }
  // The next frame starts exactly after it: nothing lost or repeated.
  absl::StatusOr<std::optional<tubo::Bytes>> after = end.RecvFor(absl::Seconds(10));
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->view(), "after");
}

class RecvDeadline : public ::testing::TestWithParam<std::tuple<Split, Mode>> {};

template <typename End>
void RunSplit(End& reader, int write_fd, const Split& split, Mode mode) {
  std::string frame = split.header + Pattern(split.payload, 5) + Header4(5) + "after";
  StallingPeer peer(write_fd, frame.substr(0, split.cut), frame.substr(split.cut));
  std::vector<char> first_buf(split.payload + 1);
  TimeOutWhileStalled(reader, peer, mode, first_buf);
  if (::testing::Test::HasFatalFailure()) return;
  peer.Resume();
  ReceiveAfterResume(reader, mode, split.payload);
  peer.Join();
  EXPECT_TRUE(peer.ok());
}

TEST_P(RecvDeadline, OnAPipeTimesOutWithNothingLost) {
  const auto& [split, mode] = GetParam();
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  RunSplit(p->reader, p->writer.fd().get(), split, mode);
}

TEST_P(RecvDeadline, OnADuplexEndTimesOutWithNothingLost) {
  const auto& [split, mode] = GetParam();
  absl::StatusOr<tubo::DuplexPipe> p = tubo::DuplexPipe::Create();
  ASSERT_TRUE(p.ok());
  RunSplit(p->first, p->second.fd().get(), split, mode);
}

std::string ModeName(Mode mode) {
  switch (mode) {
    case Mode::kRecvThenRecv:
      return "RecvForThenRecv";
    case Mode::kRecvIntoThenRecvInto:
      return "RecvIntoForThenRecvInto";
    case Mode::kRecvIntoThenRecv:
      return "RecvIntoForThenRecv";
    case Mode::kRecvThenRecvInto:
      return "RecvForThenRecvInto";
  }
  return "?";
}

INSTANTIATE_TEST_SUITE_P(
    Splits, RecvDeadline,
    ::testing::Combine(::testing::ValuesIn(Splits()),
                       ::testing::Values(Mode::kRecvThenRecv, Mode::kRecvIntoThenRecvInto,
                                         Mode::kRecvIntoThenRecv, Mode::kRecvThenRecvInto)),
    [](const ::testing::TestParamInfo<std::tuple<Split, Mode>>& info) {
      return std::string(std::get<0>(info.param).name) + "_" + ModeName(std::get<1>(info.param));
    });

TEST(RecvFor, ReturnsAMessageThatIsThere) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->writer.Send("one").ok());
  ASSERT_TRUE(p->writer.Send("two").ok());
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.RecvFor(absl::ZeroDuration());
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->view(), "one");
  char buf[8];
  absl::StatusOr<tubo::RecvResult> r = p->reader.RecvIntoFor(buf, sizeof(buf), absl::Seconds(5));
  ASSERT_TRUE(r.ok() && r->message()) << r.status();
  EXPECT_EQ(std::string_view(buf, r->size), "two");
}

TEST(RecvFor, TimesOutOnAnIdlePipeThenSeesEof) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.RecvFor(absl::Milliseconds(50));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
  ASSERT_FALSE(m.ok());
  ExpectTimeout(m.status(), p->reader.fd().get());
  ASSERT_TRUE(p->writer.Close().ok());
  m = p->reader.RecvFor(absl::Seconds(5));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->has_value());
}

TEST(RecvFor, TruncatedAfterATimeoutIsStillTruncated) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WriteRaw(p->writer.fd().get(), Header4(100) + "0123456789"));
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.RecvFor(absl::Milliseconds(10));
  ExpectTimeout(m.status(), p->reader.fd().get());
  ASSERT_TRUE(p->writer.Close().ok());
  m = p->reader.RecvFor(absl::Seconds(5));
  EXPECT_EQ(tubo::ErrorOf(m.status()), tubo::Error::kTruncated) << m.status();
  m = p->reader.Recv();
  EXPECT_EQ(tubo::ErrorOf(m.status()), tubo::Error::kTruncated) << m.status();
}

TEST(RecvFor, ReleaseRefusesWhilePartOfAFrameIsKept) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WriteRaw(p->writer.fd().get(), Header4(100 << 10) + std::string(40 << 10, 'x')));
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.RecvFor(absl::Milliseconds(10));
  ExpectTimeout(m.status(), p->reader.fd().get());
  absl::StatusOr<tubo::OwnedFd> fd = p->reader.Release();
  EXPECT_FALSE(fd.ok());
}

TEST(RecvFor, AWaitSetDoesNotReportAPartialFrameUntilMoreArrives) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WriteRaw(p->writer.fd().get(), Header4(10) + "01234"));
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.RecvFor(absl::Milliseconds(10));
  ExpectTimeout(m.status(), p->reader.fd().get());
  absl::StatusOr<tubo::WaitSet> ws = tubo::WaitSet::Create();
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE(ws->Add(p->reader, 1).ok());
  absl::StatusOr<std::vector<uint64_t>> ready = ws->Wait(absl::Milliseconds(20));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(ready->empty());
  ASSERT_TRUE(WriteRaw(p->writer.fd().get(), "56789"));
  ready = ws->Wait(absl::Seconds(5));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->size(), 1u);
  m = p->reader.RecvFor(absl::ZeroDuration());
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->view(), "0123456789");
}

// Lowering the maximum after a header was read

TEST(MaxMessageSize, LoweredAfterATooSmallRecvIntoAppliesToThePendingMessage) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->writer.Send(std::string(100, 'm')).ok());
  char small[4];
  absl::StatusOr<tubo::RecvResult> r = p->reader.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok() && r->too_small()) << r.status();
  EXPECT_EQ(r->size, 100u);
  p->reader.set_max_message_size(10);
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.Recv();
  EXPECT_EQ(tubo::ErrorOf(m.status()), tubo::Error::kTooLarge) << m.status();
  // Sticky, like any framing error, whatever the call (timed, so that a
  // failure here cannot hang the test).
  m = p->reader.RecvFor(absl::ZeroDuration());
  EXPECT_EQ(tubo::ErrorOf(m.status()), tubo::Error::kTooLarge) << m.status();
  std::vector<char> big(200);
  r = p->reader.RecvIntoFor(big.data(), big.size(), absl::ZeroDuration());
  EXPECT_EQ(tubo::ErrorOf(r.status()), tubo::Error::kTooLarge) << r.status();
}

TEST(MaxMessageSize, LoweredAfterATimeoutMidPayloadAppliesToThePendingMessage) {
  absl::StatusOr<tubo::DuplexPipe> p = tubo::DuplexPipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WriteRaw(p->second.fd().get(), Header4(1 << 20) + std::string(100 << 10, 'x')));
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->first.RecvFor(absl::Milliseconds(10));
  ExpectTimeout(m.status(), p->first.fd().get());
  p->first.set_max_message_size(1000);
  m = p->first.RecvFor(absl::Seconds(1));
  EXPECT_EQ(tubo::ErrorOf(m.status()), tubo::Error::kTooLarge) << m.status();
}

TEST(MaxMessageSize, RaisedOrUnchangedKeepsThePendingMessage) {
  absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->writer.Send(std::string(100, 'm')).ok());
  char small[4];
  absl::StatusOr<tubo::RecvResult> r = p->reader.RecvInto(small, sizeof(small));
  ASSERT_TRUE(r.ok() && r->too_small()) << r.status();
  p->reader.set_max_message_size(100);
  absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.Recv();
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  EXPECT_EQ((*m)->size(), 100u);
}

}  // namespace
