// One message of 2^31 + 5 bytes each way between tubo and CPython's
// Connection: the 8-byte length form of contract 1, in both directions.
#include <zlib.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/end/cpython_peer.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::Conversation;
using tubo_test::Transport;
using tubo_test::TransportName;

constexpr size_t kLarge = (size_t{1} << 31) + 5;
constexpr size_t kPeriod = 251;

// Pattern(size, seed) from test_util.h, built by doubling a 251-byte run so
// that 2 GiB take a fraction of a second.
std::string LargePattern(size_t size, size_t seed) {
  std::string s(size, '\0');
  size_t filled = std::min(size, kPeriod);
  for (size_t i = 0; i < filled; ++i) s[i] = static_cast<char>((i + seed) % kPeriod);
  while (filled < size) {  // `filled` stays a multiple of the period
    size_t n = std::min(filled, size - filled);
    std::memcpy(s.data() + filled, s.data(), n);
    filled += n;
  }
  return s;
}

// IsPattern from test_util.h, by memcmp against a 1 MiB reference.
bool IsLargePattern(std::string_view data, size_t seed) {
  const size_t step = kPeriod * 4096;
  const std::string reference = LargePattern(step + kPeriod, 0);
  for (size_t off = 0; off < data.size(); off += step) {
    size_t n = std::min(step, data.size() - off);
    if (std::memcmp(data.data() + off, reference.data() + (off + seed) % kPeriod, n) != 0) {
      return false;
    }
  }
  return true;
}

uint32_t Crc32(std::string_view data) {
  return static_cast<uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

class CpythonLarge : public ::testing::TestWithParam<Transport> {};

INSTANTIATE_TEST_SUITE_P(Transports, CpythonLarge,
                         ::testing::Values(Transport::kPipes, Transport::kDuplex), TransportName);

TEST_P(CpythonLarge, TwoGiBPlusFiveEachWay) {
  Conversation peer;
  ASSERT_TRUE(peer.Start(GetParam(), "large", {std::to_string(kLarge)}));
  peer.set_max_message_size(uint64_t{4} << 30);
  {
    const std::string out = LargePattern(kLarge, kLarge);
    ASSERT_TRUE(IsLargePattern(out, kLarge));
    const uint32_t crc = Crc32(out);
    absl::Status s = peer.Send(out);
    ASSERT_TRUE(s.ok()) << s;
    absl::StatusOr<std::optional<tubo::Bytes>> verdict = peer.Recv();
    ASSERT_TRUE(verdict.ok()) << verdict.status();
    ASSERT_TRUE(verdict->has_value()) << "the peer failed (see its stderr)";
    EXPECT_EQ((*verdict)->view(), "ok " + std::to_string(crc));
  }
  absl::StatusOr<std::optional<tubo::Bytes>> in = peer.Recv();
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_TRUE(in->has_value());
  ASSERT_EQ((*in)->size(), kLarge);
  const tubo::Bytes& message = **in;
  EXPECT_EQ(static_cast<unsigned char>(message.data()[0]), 7);
  EXPECT_EQ(static_cast<unsigned char>(message.data()[kLarge - 1]), (kLarge - 1 + 7) % kPeriod);
  EXPECT_EQ(static_cast<unsigned char>(message.data()[size_t{1} << 31]),
            ((size_t{1} << 31) + 7) % kPeriod);
  EXPECT_TRUE(IsLargePattern(message.view(), 7));
  const uint32_t crc = Crc32(message.view());
  absl::StatusOr<std::optional<tubo::Bytes>> peer_crc = peer.Recv();
  ASSERT_TRUE(peer_crc.ok()) << peer_crc.status();
  ASSERT_TRUE(peer_crc->has_value());
  EXPECT_EQ((*peer_crc)->view(), std::to_string(crc));
  ASSERT_TRUE(peer.FinishSending().ok());
  absl::StatusOr<std::optional<tubo::Bytes>> eof = peer.Recv();
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_FALSE(eof->has_value());
  EXPECT_CHILD_OK(peer.pid());
}

}  // namespace
