// WaitSet registrations follow the descriptor the set registered: an end
// released while watched and then removed leaves nothing behind in epoll, and
// a registration that cannot be deleted any more never makes Wait spin (and
// the set's fd() keeps its number while the set rebuilds past it).
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

// CPU time (user + system) this process has used so far.
absl::Duration CpuTime() {
  struct rusage ru = {};
  ::getrusage(RUSAGE_SELF, &ru);
  return absl::DurationFromTimeval(ru.ru_utime) + absl::DurationFromTimeval(ru.ru_stime);
}

// Waits `timeout` on `set`, expects nothing ready, and that the wait slept
// rather than spun: at most a quarter of the time on the CPU.
void ExpectQuietWait(tubo::WaitSet& set, absl::Duration timeout) {
  const absl::Duration cpu0 = CpuTime();
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::vector<uint64_t>> ready = set.Wait(timeout);
  const absl::Duration wall = absl::Now() - t0;
  const absl::Duration cpu = CpuTime() - cpu0;
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_TRUE(ready->empty()) << ready->size() << " keys ready";
  EXPECT_GE(wall, timeout);
  EXPECT_LT(cpu, timeout / 4) << "Wait burned " << cpu << " of CPU in " << wall;
}

TEST(WaitRemoveTest, ReleasedEndRemovedThenReAddedWorks) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->Add(reader, 1).ok());
  absl::StatusOr<tubo::OwnedFd> fd = reader.Release();
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(set->Remove(1).ok());
  tubo::ReadEnd again(std::move(*fd));
  absl::Status added = set->Add(again, 2);
  ASSERT_TRUE(added.ok()) << added;
  ASSERT_TRUE(writer.Send("x").ok());
  absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::Seconds(5));
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{2});
  absl::StatusOr<std::optional<tubo::Bytes>> m = again.Recv();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->view(), "x");
}

TEST(WaitRemoveTest, DataOnRemovedReleasedDescriptorDoesNotWake) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->Add(reader, 1).ok());
  absl::StatusOr<tubo::OwnedFd> fd = reader.Release();  // still open, here
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(set->Remove(1).ok());
  EXPECT_EQ(set->size(), 0u);
  ASSERT_TRUE(writer.Send("data nobody watches").ok());
  ExpectQuietWait(*set, absl::Milliseconds(300));
}

// The registered file stays open through a duplicate while its number goes
// to another file: the registration can no longer be deleted. Its events must
// not make Wait spin, and the new file under that number must be watchable.
TEST(WaitRemoveTest, UndeletableRegistrationIsRebuiltAway) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->Add(reader, 1).ok());
  absl::StatusOr<tubo::OwnedFd> fd = reader.Release();
  ASSERT_TRUE(fd.ok());
  const int number = fd->get();
  tubo::OwnedFd dup = tubo::OwnedFd::Adopt(::fcntl(number, F_DUPFD_CLOEXEC, 100));
  ASSERT_TRUE(dup.valid());
  fd->Reset();  // the number is free; the file lives on in `dup`
  absl::StatusOr<tubo::Pipe> other = tubo::Pipe::Create();
  ASSERT_TRUE(other.ok());
  auto& [other_reader, other_writer] = *other;
  ASSERT_EQ(other_reader.fd().get(), number) << "the test needs the number reused";
  ASSERT_TRUE(set->Remove(1).ok());
  ASSERT_TRUE(writer.Send("to the old file").ok());
  ExpectQuietWait(*set, absl::Milliseconds(300));

  // The number now belongs to the other pipe, which can be watched.
  absl::Status added = set->Add(other_reader, 2);
  ASSERT_TRUE(added.ok()) << added;
  ExpectQuietWait(*set, absl::Milliseconds(100));
  ASSERT_TRUE(other_writer.Send("y").ok());
  absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::Seconds(5));
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{2});
}

// True if `fd` is readable within `timeout_ms`.
bool Readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

// An event loop keeps the descriptor it was given: a rebuild (as above)
// replaces the set's epoll instance but not fd(), which stays quiet once the
// stale registration is gone and wakes for what the set watches afterwards.
TEST(WaitRemoveTest, FdKeepsItsNumberAcrossARebuild) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  const int set_fd = set->fd().get();
  ASSERT_GE(set_fd, 3);
  ASSERT_TRUE(set->Add(reader, 1).ok());
  absl::StatusOr<tubo::OwnedFd> fd = reader.Release();
  ASSERT_TRUE(fd.ok());
  const int number = fd->get();
  tubo::OwnedFd dup = tubo::OwnedFd::Adopt(::fcntl(number, F_DUPFD_CLOEXEC, 100));
  ASSERT_TRUE(dup.valid());
  fd->Reset();
  absl::StatusOr<tubo::Pipe> other = tubo::Pipe::Create();
  ASSERT_TRUE(other.ok());
  auto& [other_reader, other_writer] = *other;
  ASSERT_EQ(other_reader.fd().get(), number) << "the test needs the number reused";
  ASSERT_TRUE(set->Remove(1).ok());
  ASSERT_TRUE(writer.Send("to the old file").ok());
  EXPECT_TRUE(Readable(set_fd, 0)) << "the stale registration wakes the descriptor";
  ExpectQuietWait(*set, absl::Milliseconds(100));  // rebuilds

  EXPECT_EQ(set->fd().get(), set_fd);
  EXPECT_FALSE(Readable(set_fd, 0));
  ASSERT_TRUE(set->Add(other_reader, 2).ok());
  EXPECT_FALSE(Readable(set_fd, 50));
  ASSERT_TRUE(other_writer.Send("y").ok());
  EXPECT_TRUE(Readable(set_fd, 5000));
  absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::ZeroDuration());
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{2});
}

// Remove leaves alone a registration that another live entry owns: the
// number was released by one entry's end and re-added under a new key before
// the old key was removed.
TEST(WaitRemoveTest, RemoveKeepsAnotherEntrysRegistration) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  auto& [reader, writer] = *pipe;
  absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->Add(reader, 1).ok());
  absl::StatusOr<tubo::OwnedFd> fd = reader.Release();
  ASSERT_TRUE(fd.ok());
  const int number = fd->get();
  fd->Reset();  // closing removes it from epoll
  absl::StatusOr<tubo::Pipe> other = tubo::Pipe::Create();
  ASSERT_TRUE(other.ok());
  auto& [other_reader, other_writer] = *other;
  ASSERT_EQ(other_reader.fd().get(), number);
  ASSERT_TRUE(set->Add(other_reader, 2).ok());
  ASSERT_TRUE(set->Remove(1).ok());
  ASSERT_TRUE(other_writer.Send("z").ok());
  absl::StatusOr<std::vector<uint64_t>> ready = set->Wait(absl::Seconds(5));
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(*ready, std::vector<uint64_t>{2});
}

}  // namespace
