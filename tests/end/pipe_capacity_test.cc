// tubo's use of pipe capacity is bounded and given back: long-lived ends that
// once sent large messages never make the user's other pipes shrink to 8 KiB
// (the kernel's fallback past /proc/sys/fs/pipe-user-pages-soft).
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/internal/io.h"
#include "tubo/tubo.h"

namespace {

constexpr size_t kMiB = 1024 * 1024;

size_t SoftLimitPages() {
  size_t soft = 16384;
  if (FILE* f = std::fopen("/proc/sys/fs/pipe-user-pages-soft", "re")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1 && v > 0) soft = v;
    std::fclose(f);
  }
  return soft;
}

// Sends `message` on `writer` while a thread receives it from `reader`;
// returns the size received (or -1).
long SendThroughReader(tubo::WriteEnd& writer, tubo::ReadEnd& reader, const std::string& message) {
  long got = -1;
  std::thread t([&] {
    absl::StatusOr<std::optional<tubo::Bytes>> m = reader.Recv();
    if (m.ok() && m->has_value()) got = static_cast<long>((*m)->size());
  });
  absl::Status s = writer.Send(message);
  t.join();
  return s.ok() ? got : -1;
}

// Runs in a child with the privileges of an otherwise unused user: root is
// exempt from the per-user pipe limits, so the scenario must run without them.
int ManyLongLivedEnds() {
  if (::geteuid() == 0) {
    const uid_t uid = 60000 + static_cast<uid_t>(::getpid() % 5000);
    CHILD_CHECK(::setgroups(0, nullptr) == 0, 2);
    CHILD_CHECK(::setgid(uid) == 0, 3);
    CHILD_CHECK(::setuid(uid) == 0, 4);
  }
  const std::string message = tubo_test::Pattern(kMiB);
  std::vector<tubo::ReadEnd> readers;
  std::vector<tubo::WriteEnd> writers;
  for (int i = 0; i < 128; ++i) {
    absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
    CHILD_CHECK(pipe.ok(), 5);
    readers.push_back(std::move(pipe->reader));
    writers.push_back(std::move(pipe->writer));
    CHILD_CHECK(
        SendThroughReader(writers.back(), readers.back(), message) == static_cast<long>(kMiB), 6);
  }
  // What the 128 live write ends hold above the default size.
  size_t extra_pages = 0;
  for (tubo::WriteEnd& w : writers) {
    const int size = ::fcntl(w.fd().get(), F_GETPIPE_SZ);
    CHILD_CHECK(size > 0, 7);
    if (size > 65536) extra_pages += (static_cast<size_t>(size) - 65536) / 4096;
  }
  std::fprintf(stderr, "pages held above 64 KiB by 128 ends: %zu (bound %zu)\n", extra_pages,
               SoftLimitPages() / 8);
  CHILD_CHECK(extra_pages <= SoftLimitPages() / 8, 8);
  CHILD_CHECK(tubo::internal::PipeGrowthPages() <= tubo::internal::PipeGrowthBudgetPages(), 9);
  // An unrelated pipe of the same user still gets the default 64 KiB.
  int fds[2];
  CHILD_CHECK(::pipe2(fds, O_CLOEXEC) == 0, 10);
  const int fresh = ::fcntl(fds[1], F_GETPIPE_SZ);
  std::fprintf(stderr, "a new pipe's capacity: %d\n", fresh);
  CHILD_CHECK(fresh == 65536, 11);
  ::close(fds[0]);
  ::close(fds[1]);
  return 0;
}

TEST(PipeCapacityTest, LongLivedEndsLeaveNewPipesTheirDefaultSize) {
  pid_t pid = tubo_test::ForkChild(ManyLongLivedEnds);
  EXPECT_CHILD_OK(pid);
}

TEST(PipeCapacityTest, CapacityIsGivenBackAfterTheMessageWasRead) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  ASSERT_EQ(SendThroughReader(writer, reader, tubo_test::Pattern(kMiB)), static_cast<long>(kMiB));
  // The reader has taken it all: the next send gives the capacity back.
  ASSERT_EQ(SendThroughReader(writer, reader, "small"), 5);
  EXPECT_EQ(::fcntl(writer.fd().get(), F_GETPIPE_SZ), 65536);
  EXPECT_EQ(tubo::internal::PipeGrowthPages(), 0u);
}

TEST(PipeCapacityTest, CloseGivesTheBudgetBack) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  ASSERT_EQ(SendThroughReader(writer, reader, tubo_test::Pattern(2 * kMiB)),
            static_cast<long>(2 * kMiB));
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(tubo::internal::PipeGrowthPages(), 0u);
}

}  // namespace
