// The timed receives of the C ABI (tubo_end_recv_timeout,
// tubo_end_recv_into_timeout): a peer that stalls in the middle of a frame
// makes them return TUBO_E_TIMEOUT with nothing lost, and the message arrives
// whole afterwards; and tubo_end_set_max_message_size applied to a message
// whose header was already read.
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/capi/capi_error.h"
#include "tubo.h"

namespace {

using tubo_capi_test::Err;

std::string Header4(uint32_t n) {
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(n >> (24 - 8 * i));
  return h;
}

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

struct Ends {
  tubo_end* r = nullptr;
  tubo_end* w = nullptr;
  Ends() { EXPECT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK); }
  ~Ends() {
    tubo_end_free(r);
    tubo_end_free(w);
  }
};

// Writes `first`, waits for `go`, writes `rest`; `stalled` once `first` is out.
struct Peer {
  std::atomic<bool> stalled{false}, go{false};
  std::thread t;
  Peer(int fd, std::string first, std::string rest) {
    t = std::thread([this, fd, first, rest] {
      WriteAll(fd, first);
      stalled = true;
      while (!go) usleep(1000);
      WriteAll(fd, rest);
    });
  }
  ~Peer() {
    go = true;
    t.join();
  }
};

class CapiRecvTimeout : public ::testing::TestWithParam<size_t> {};

TEST_P(CapiRecvTimeout, RecvTimeoutLosesNothing) {
  const size_t size = GetParam();
  Ends e;
  const int fd = tubo_end_fd(e.r);
  std::string frame = Header4(static_cast<uint32_t>(size)) + Pattern(size) + Header4(5) + "after";
  const size_t cut = size > 4 ? 4 + size / 2 : 2;
  Peer peer(tubo_end_fd(e.w), frame.substr(0, cut), frame.substr(cut));
  bool after_stall = false;
  while (!after_stall) {
    after_stall = peer.stalled;
    tubo_bytes* out = reinterpret_cast<tubo_bytes*>(0x1);
    Err err;
    ASSERT_EQ(tubo_end_recv_timeout(&out, e.r, after_stall ? 50 : 5, &err), TUBO_E_TIMEOUT)
        << err.msg();
    EXPECT_EQ(err.code(), TUBO_E_TIMEOUT);
    EXPECT_NE(err.msg().find("fd " + std::to_string(fd)), std::string::npos) << err.msg();
    EXPECT_EQ(out, reinterpret_cast<tubo_bytes*>(0x1)) << "output touched on failure";
  }
  peer.go = true;
  tubo_bytes* m = nullptr;
  Err err;
  ASSERT_EQ(tubo_end_recv_timeout(&m, e.r, -1, &err), TUBO_OK) << err.msg();
  ASSERT_EQ(m->len, size);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data), m->len), Pattern(size));
  tubo_bytes_free(m);
  ASSERT_EQ(tubo_end_recv_timeout(&m, e.r, 5000, &err), TUBO_OK) << err.msg();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data), m->len), "after");
  tubo_bytes_free(m);
}

TEST_P(CapiRecvTimeout, RecvIntoTimeoutLosesNothingAcrossBuffers) {
  const size_t size = GetParam();
  Ends e;
  std::string frame = Header4(static_cast<uint32_t>(size)) + Pattern(size) + Header4(5) + "after";
  const size_t cut = size > 4 ? 4 + size / 2 : 2;
  Peer peer(tubo_end_fd(e.w), frame.substr(0, cut), frame.substr(cut));
  std::vector<char> first(size), second(size);
  bool after_stall = false;
  while (!after_stall) {
    after_stall = peer.stalled;
    size_t n = 12345;
    Err err;
    ASSERT_EQ(
        tubo_end_recv_into_timeout(&n, e.r, first.data(), first.size(), after_stall ? 50 : 5, &err),
        TUBO_E_TIMEOUT)
        << err.msg();
    EXPECT_EQ(n, 12345u) << "output touched on failure";
  }
  peer.go = true;
  size_t n = 0;
  Err err;
  ASSERT_EQ(tubo_end_recv_into_timeout(&n, e.r, second.data(), second.size(), 5000, &err), TUBO_OK)
      << err.msg();
  ASSERT_EQ(n, size);
  EXPECT_EQ(std::string(second.data(), n), Pattern(size));
  char after[8];
  ASSERT_EQ(tubo_end_recv_into_timeout(&n, e.r, after, sizeof(after), 0, &err), TUBO_OK)
      << err.msg();
  EXPECT_EQ(std::string(after, n), "after");
}

INSTANTIATE_TEST_SUITE_P(Sizes, CapiRecvTimeout,
                         ::testing::Values(size_t{0}, size_t{1000}, size_t{4} << 20));

TEST(CapiRecvTimeout, ArgumentsAndOutcomes) {
  Ends e;
  Err err;
  tubo_bytes* m = nullptr;
  size_t n = 0;
  char buf[4];
  EXPECT_EQ(tubo_end_recv_timeout(nullptr, e.r, 0, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("tubo_end_recv_timeout"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_end_recv_timeout(&m, nullptr, 0, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_recv_timeout(&m, e.w, 0, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_recv_into_timeout(nullptr, e.r, buf, 4, 0, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_recv_into_timeout(&n, e.r, nullptr, 4, 0, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("tubo_end_recv_into_timeout: buf"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_end_recv_into_timeout(&n, e.w, buf, 4, 0, &err), TUBO_E_INVALID_ARGUMENT);
  // Idle: a timeout, with no error output wanted too.
  EXPECT_EQ(tubo_end_recv_timeout(&m, e.r, 0, nullptr), TUBO_E_TIMEOUT);
  EXPECT_EQ(tubo_end_recv_into_timeout(&n, e.r, buf, 4, 10, nullptr), TUBO_E_TIMEOUT);
  // Too small, then the message, then EOF.
  ASSERT_EQ(tubo_end_send(e.w, "hello", 5, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_end_recv_into_timeout(&n, e.r, buf, 4, 0, &err), TUBO_E_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 5u);
  ASSERT_EQ(tubo_end_recv_timeout(&m, e.r, 0, &err), TUBO_OK) << err.msg();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data), m->len), "hello");
  EXPECT_EQ(err.e, nullptr);
  tubo_bytes_free(m);
  tubo_end_free(e.w);
  e.w = nullptr;
  EXPECT_EQ(tubo_end_recv_timeout(&m, e.r, 1000, &err), TUBO_EOF);
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(tubo_end_recv_into_timeout(&n, e.r, buf, 4, 1000, &err), TUBO_EOF);
  EXPECT_EQ(n, 0u);
}

TEST(CapiMaxMessageSize, LoweredBelowAPendingMessageFailsTheNextReceive) {
  Ends e;
  ASSERT_EQ(tubo_end_send(e.w, std::string(100, 'm').data(), 100, nullptr), TUBO_OK);
  size_t n = 0;
  char small[4];
  Err err;
  ASSERT_EQ(tubo_end_recv_into(&n, e.r, small, sizeof(small), &err), TUBO_E_BUFFER_TOO_SMALL);
  ASSERT_EQ(n, 100u);
  ASSERT_EQ(tubo_end_set_max_message_size(e.r, 10, &err), TUBO_OK);
  tubo_bytes* m = nullptr;
  EXPECT_EQ(tubo_end_recv(&m, e.r, &err), TUBO_E_TOO_LARGE) << err.msg();
  EXPECT_EQ(m, nullptr);
  // Sticky (timed, so that a failure here cannot hang the test).
  EXPECT_EQ(tubo_end_recv_timeout(&m, e.r, 0, &err), TUBO_E_TOO_LARGE) << err.msg();
}

}  // namespace
