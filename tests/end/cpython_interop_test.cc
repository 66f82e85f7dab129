// Wire compatibility with CPython's multiprocessing.connection.Connection,
// both directions, over a simplex pipe pair and over a duplex socketpair.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/end/cpython_peer.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::Conversation;
using tubo_test::IsPattern;
using tubo_test::Pattern;
using tubo_test::Transport;
using tubo_test::TransportName;

const size_t kSizes[] = {0,     1,     4,     5,     16383,   16384,
                         16385, 65535, 65536, 65537, 1 << 20, (8 << 20) + 3};

class CpythonInterop : public ::testing::TestWithParam<Transport> {};

INSTANTIATE_TEST_SUITE_P(Transports, CpythonInterop,
                         ::testing::Values(Transport::kPipes, Transport::kDuplex), TransportName);

TEST_P(CpythonInterop, PythonReceivesWhatTuboSendsAndEchoesIt) {
  Conversation peer;
  ASSERT_TRUE(peer.Start(GetParam(), "echo", {}));
  for (size_t size : kSizes) {
    // One at a time: a message and its echo may each exceed the pipe capacity.
    ASSERT_TRUE(peer.Send(Pattern(size, size)).ok()) << size;
    absl::StatusOr<std::optional<tubo::Bytes>> m = peer.Recv();
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(m->has_value()) << "peer ended early, at size " << size;
    ASSERT_EQ((*m)->size(), size);
    EXPECT_TRUE(IsPattern((*m)->view(), size)) << size;
  }
  ASSERT_TRUE(peer.FinishSending().ok());
  absl::StatusOr<std::optional<tubo::Bytes>> done = peer.Recv();
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ((*done)->view(), "done " + std::to_string(std::size(kSizes)));
  absl::StatusOr<std::optional<tubo::Bytes>> eof = peer.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_CHILD_OK(peer.pid());
}

TEST_P(CpythonInterop, TuboReceivesWhatPythonSends) {
  std::vector<std::string> sizes;
  for (size_t size : kSizes) sizes.push_back(std::to_string(size));
  Conversation peer;
  ASSERT_TRUE(peer.Start(GetParam(), "generate", sizes));
  for (size_t size : kSizes) {
    absl::StatusOr<std::optional<tubo::Bytes>> m = peer.Recv();
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(m->has_value()) << "peer ended early, at size " << size;
    ASSERT_EQ((*m)->size(), size);
    EXPECT_TRUE(IsPattern((*m)->view(), size)) << size;
  }
  absl::StatusOr<std::optional<tubo::Bytes>> eof = peer.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_CHILD_OK(peer.pid());
}

TEST_P(CpythonInterop, TuboReceivesWhatPythonSendsIntoABuffer) {
  std::vector<std::string> sizes;
  for (size_t size : kSizes) sizes.push_back(std::to_string(size));
  Conversation peer;
  ASSERT_TRUE(peer.Start(GetParam(), "generate", sizes));
  std::vector<char> buffer(16);
  for (size_t size : kSizes) {
    absl::StatusOr<tubo::RecvResult> r = peer.RecvInto(buffer.data(), buffer.size());
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->too_small()) {
      ASSERT_EQ(r->size, size);
      buffer.resize(size);
      r = peer.RecvInto(buffer.data(), buffer.size());
      ASSERT_TRUE(r.ok()) << r.status();
    }
    ASSERT_TRUE(r->message()) << "at size " << size;
    ASSERT_EQ(r->size, size);
    EXPECT_TRUE(IsPattern(std::string_view(buffer.data(), size), size)) << size;
  }
  absl::StatusOr<tubo::RecvResult> eof = peer.RecvInto(buffer.data(), buffer.size());
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_TRUE(eof->eof());
  EXPECT_CHILD_OK(peer.pid());
}

}  // namespace
