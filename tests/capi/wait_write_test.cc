// The C ABI's wait-set registrations and non-blocking sends: a released and
// removed end leaves nothing behind; try-send, send with a timeout and
// writability let one thread feed several workers.
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tubo.h"

namespace {

double Cpu() {
  struct rusage ru = {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::string Pattern(size_t size, size_t seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i + seed) % 251);
  return s;
}

TEST(CapiWaitWriteTest, ReleasedRemovedEndCanBeReAddedAndDoesNotSpin) {
  tubo_end *r = nullptr, *w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK);
  tubo_wait_set* set = nullptr;
  ASSERT_EQ(tubo_wait_set_new(&set, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_add_end(set, r, 1, nullptr), TUBO_OK);
  int fd = -1;
  ASSERT_EQ(tubo_end_release_fd(&fd, r, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_remove(set, 1, nullptr), TUBO_OK);

  // Data on the removed, released descriptor: the wait sleeps its timeout.
  ASSERT_EQ(tubo_end_send(w, "x", 1, nullptr), TUBO_OK);
  uint64_t keys[4];
  size_t n = 99;
  const double cpu0 = Cpu(), t0 = Now();
  ASSERT_EQ(tubo_wait_set_wait(&n, set, keys, 4, 300, nullptr), TUBO_OK);
  const double wall = Now() - t0, cpu = Cpu() - cpu0;
  EXPECT_EQ(n, 0u);
  EXPECT_GE(wall, 0.299);
  EXPECT_LT(cpu, 0.075) << "the wait burned " << cpu << " s of CPU";

  // The same descriptor, adopted again, can be watched again.
  tubo_end* again = nullptr;
  ASSERT_EQ(tubo_end_adopt_fd(&again, fd, TUBO_END_READ, nullptr), TUBO_OK);
  tubo_error* err = nullptr;
  ASSERT_EQ(tubo_wait_set_add_end(set, again, 2, &err), TUBO_OK)
      << (err ? tubo_error_message(err) : "");
  ASSERT_EQ(tubo_wait_set_wait(&n, set, keys, 4, 5000, nullptr), TUBO_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(keys[0], 2u);
  tubo_wait_set_free(set);
  tubo_end_free(again);
  tubo_end_free(r);
  tubo_end_free(w);
}

constexpr size_t kMessage = 256 * 1024;
constexpr int kMessages = 32;  // 8 MiB per worker

int Worker(void* ctx, tubo_end** ends, size_t n_ends) {
  const size_t index = reinterpret_cast<uintptr_t>(ctx);
  if (n_ends != 1) return 2;
  for (int i = 0; i < kMessages; ++i) {
    tubo_bytes* m = nullptr;
    if (tubo_end_recv(&m, ends[0], nullptr) != TUBO_OK) return 3;
    const std::string want = Pattern(kMessage, index * 1000 + i);
    const bool same = m->len == want.size() && memcmp(m->data, want.data(), m->len) == 0;
    tubo_bytes_free(m);
    if (!same) return 4;
  }
  tubo_bytes* m = nullptr;
  return tubo_end_recv(&m, ends[0], nullptr) == TUBO_EOF ? 0 : 5;
}

TEST(CapiWaitWriteTest, OneThreadFeedsThreeWorkersWithTrySend) {
  constexpr int kWorkers = 3;
  tubo_end* writers[kWorkers];
  tubo_process* procs[kWorkers];
  tubo_wait_set* set = nullptr;
  ASSERT_EQ(tubo_wait_set_new(&set, nullptr), TUBO_OK);
  for (int i = 0; i < kWorkers; ++i) {
    tubo_end* r = nullptr;
    ASSERT_EQ(tubo_pipe_new(&r, &writers[i], nullptr), TUBO_OK);
    ASSERT_EQ(
        tubo_fork(&procs[i], Worker, reinterpret_cast<void*>(uintptr_t(i)), &r, 1, 0, nullptr),
        TUBO_OK);
    ASSERT_EQ(tubo_wait_set_add_end_writable(set, writers[i], i, nullptr), TUBO_OK);
  }
  int next[kWorkers] = {0, 0, 0};
  std::string message[kWorkers];
  for (int i = 0; i < kWorkers; ++i) message[i] = Pattern(kMessage, i * 1000);
  int open = kWorkers;
  while (open > 0) {
    uint64_t keys[kWorkers];
    size_t n = 0;
    ASSERT_EQ(tubo_wait_set_wait(&n, set, keys, kWorkers, 30000, nullptr), TUBO_OK);
    ASSERT_GT(n, 0u);
    for (size_t k = 0; k < n; ++k) {
      const uint64_t key = keys[k];
      if (next[key] == kMessages) {
        int rc = tubo_end_flush_timeout(writers[key], 0, nullptr);
        if (rc == TUBO_OK) {
          EXPECT_EQ(tubo_end_unsent_bytes(writers[key]), 0u);
          ASSERT_EQ(tubo_wait_set_remove(set, key, nullptr), TUBO_OK);
          ASSERT_EQ(tubo_end_close(writers[key], nullptr), TUBO_OK);
          --open;
        } else {
          ASSERT_EQ(rc, TUBO_E_TIMEOUT);
        }
        continue;
      }
      int rc = tubo_end_try_send(writers[key], message[key].data(), message[key].size(), nullptr);
      if (rc == TUBO_E_TIMEOUT) continue;
      ASSERT_EQ(rc, TUBO_OK);
      if (++next[key] < kMessages) message[key] = Pattern(kMessage, key * 1000 + next[key]);
    }
  }
  for (int i = 0; i < kWorkers; ++i) {
    int code = -1;
    ASSERT_EQ(tubo_process_wait(&code, procs[i], nullptr), TUBO_OK);
    EXPECT_EQ(code, 0) << "worker " << i;
    tubo_process_free(procs[i]);
    tubo_end_free(writers[i]);
  }
  tubo_wait_set_free(set);
}

TEST(CapiWaitWriteTest, SendTimeoutToAStalledReader) {
  tubo_end *r = nullptr, *w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK);
  // A 3 MiB message into an empty pipe nobody reads: part of it fits, so it
  // is committed, and the rest is kept.
  const std::string big = Pattern(3 << 20, 9);
  ASSERT_EQ(tubo_end_send_timeout(w, big.data(), big.size(), 100, nullptr), TUBO_OK);
  const size_t rest = tubo_end_unsent_bytes(w);
  EXPECT_GT(rest, 0u);
  // Nothing of a new message can go while the rest is stuck.
  tubo_error* err = nullptr;
  EXPECT_EQ(tubo_end_send_timeout(w, "next", 4, 50, &err), TUBO_E_TIMEOUT);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(tubo_error_code(err), TUBO_E_TIMEOUT);
  tubo_error_free(err);
  EXPECT_EQ(tubo_end_try_send(w, "next", 4, nullptr), TUBO_E_TIMEOUT);
  EXPECT_EQ(tubo_end_flush_timeout(w, 0, nullptr), TUBO_E_TIMEOUT);
  EXPECT_EQ(tubo_end_unsent_bytes(w), rest);
  std::vector<std::string> got;
  std::thread reader([&] {
    tubo_bytes* m = nullptr;
    while (tubo_end_recv(&m, r, nullptr) == TUBO_OK) {
      got.emplace_back(reinterpret_cast<const char*>(m->data), m->len);
      tubo_bytes_free(m);
    }
  });
  ASSERT_EQ(tubo_end_send_timeout(w, "next", 4, -1, nullptr), TUBO_OK);
  tubo_end_free(w);
  reader.join();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0] == big);
  EXPECT_EQ(got[1], "next");
  tubo_end_free(r);
}

TEST(CapiWaitWriteTest, BadArguments) {
  tubo_end *r = nullptr, *w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK);
  tubo_wait_set* set = nullptr;
  ASSERT_EQ(tubo_wait_set_new(&set, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_end_try_send(r, "x", 1, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_try_send(nullptr, "x", 1, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_try_send(w, nullptr, 1, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_send_timeout(r, "x", 1, 0, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_flush_timeout(r, 0, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_unsent_bytes(nullptr), 0u);
  EXPECT_EQ(tubo_wait_set_add_end_writable(set, r, 1, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_wait_set_add_end_writable(nullptr, w, 1, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_wait_set_add_end_writable(set, nullptr, 1, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_try_send(w, "", 0, nullptr), TUBO_OK);  // an empty message is a message
  tubo_end_free(r);
  EXPECT_EQ(tubo_end_try_send(w, "x", 1, nullptr), TUBO_E_PEER_CLOSED);
  tubo_wait_set_free(set);
  tubo_end_free(w);
}

}  // namespace
