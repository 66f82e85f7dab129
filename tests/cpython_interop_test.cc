// Wire compatibility with CPython's multiprocessing.connection.Connection,
// both directions, over a simplex pipe pair and over a duplex socketpair.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cpython_peer.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::IsPattern;
using tubo_test::kPeerIn;
using tubo_test::kPeerOut;
using tubo_test::Pattern;
using tubo_test::SpawnPeer;

const size_t kSizes[] = {0,     1,     4,     5,       16383,         16384,
                         16385, 65535, 65536, 65537, 1 << 20, (8 << 20) + 3};

enum class Transport { kPipes, kDuplex };

std::string Name(const ::testing::TestParamInfo<Transport>& info) {
  return info.param == Transport::kPipes ? "Pipes" : "Duplex";
}

// The C++ side of a conversation with a CPython peer: two simplex pipes or
// one duplex end.
class Conversation {
 public:
  // Spawns `cpython_peer.py <command> <in> <out> <extra...>` (or, for
  // `generate`, only the peer's sending fd) connected to this side.
  bool Start(Transport transport, const std::string& command,
             const std::vector<std::string>& extra) {
    std::vector<std::string> args = {command};
    std::vector<std::pair<int, int>> fds;
    const bool send_only = command == "generate";
    if (transport == Transport::kPipes) {
      absl::StatusOr<tubo::Pipe> to_peer = tubo::Pipe::Create();
      absl::StatusOr<tubo::Pipe> from_peer = tubo::Pipe::Create();
      if (!to_peer.ok() || !from_peer.ok()) return false;
      if (!send_only) {
        fds.push_back({to_peer->reader.fd().get(), kPeerIn});
        args.push_back(std::to_string(kPeerIn));
      }
      fds.push_back({from_peer->writer.fd().get(), kPeerOut});
      args.push_back(std::to_string(kPeerOut));
      args.insert(args.end(), extra.begin(), extra.end());
      pid_ = SpawnPeer(args, fds);
      writer_ = std::move(to_peer->writer);
      reader_ = std::move(from_peer->reader);
      // to_peer->reader and from_peer->writer close here: the peer holds the
      // only copies, so each side sees EOF when the other is done.
    } else {
      absl::StatusOr<tubo::DuplexPipe> d = tubo::DuplexPipe::Create();
      if (!d.ok()) return false;
      fds.push_back({d->second.fd().get(), kPeerIn});
      args.push_back(std::to_string(kPeerIn));
      if (!send_only) args.push_back(std::to_string(kPeerIn));
      args.insert(args.end(), extra.begin(), extra.end());
      pid_ = SpawnPeer(args, fds);
      duplex_ = std::move(d->first);
      duplex_mode_ = true;
    }
    return pid_ > 0;
  }

  absl::Status Send(std::string_view m) {
    return duplex_mode_ ? duplex_.Send(m) : writer_.Send(m);
  }
  absl::StatusOr<std::optional<tubo::Bytes>> Recv() {
    return duplex_mode_ ? duplex_.Recv() : reader_.Recv();
  }
  absl::StatusOr<tubo::RecvResult> RecvInto(void* buffer, size_t capacity) {
    return duplex_mode_ ? duplex_.RecvInto(buffer, capacity) : reader_.RecvInto(buffer, capacity);
  }
  // Tells the peer there is nothing more: it sees EOF but can still reply.
  absl::Status FinishSending() {
    return duplex_mode_ ? duplex_.ShutdownWrite() : writer_.Close();
  }
  void set_max_message_size(uint64_t max) {
    duplex_.set_max_message_size(max);
    reader_.set_max_message_size(max);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool duplex_mode_ = false;
  tubo::WriteEnd writer_;
  tubo::ReadEnd reader_;
  tubo::DuplexEnd duplex_;
};

class CpythonInterop : public ::testing::TestWithParam<Transport> {};

INSTANTIATE_TEST_SUITE_P(Transports, CpythonInterop,
                         ::testing::Values(Transport::kPipes, Transport::kDuplex), Name);

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
