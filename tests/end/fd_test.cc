// OwnedFd, BorrowedFd, and the descriptors Pipe and DuplexPipe create.
#include <fcntl.h>
#include <unistd.h>

#include <type_traits>
#include <utility>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::IsCloexec;
using tubo_test::IsClosed;
using tubo_test::IsOpen;

// A fresh open descriptor the test owns (the read end of a raw pipe; the
// write end is closed at once).
int NewRawFd() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  ::close(fds[1]);
  return fds[0];
}

static_assert(!std::is_copy_constructible_v<tubo::OwnedFd>);
static_assert(!std::is_copy_assignable_v<tubo::OwnedFd>);
static_assert(std::is_nothrow_move_constructible_v<tubo::OwnedFd>);
static_assert(std::is_nothrow_move_assignable_v<tubo::OwnedFd>);

TEST(OwnedFd, DefaultIsEmpty) {
  tubo::OwnedFd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
  EXPECT_EQ(fd.get(), -1);
  EXPECT_EQ(fd.Release(), -1);
}

TEST(OwnedFd, AdoptOfNegativeIsEmpty) {
  EXPECT_FALSE(tubo::OwnedFd::Adopt(-1).valid());
  EXPECT_EQ(tubo::OwnedFd::Adopt(-7).get(), -1);
}

TEST(OwnedFd, ClosesOnDestruction) {
  int raw = NewRawFd();
  ASSERT_GE(raw, 0);
  {
    tubo::OwnedFd fd = tubo::OwnedFd::Adopt(raw);
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_TRUE(IsClosed(raw));
}

TEST(OwnedFd, MoveTransfersOwnershipAndClosesOnce) {
  int raw = NewRawFd();
  ASSERT_GE(raw, 0);
  tubo::OwnedFd outer;
  {
    tubo::OwnedFd a = tubo::OwnedFd::Adopt(raw);
    tubo::OwnedFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): documented state
    EXPECT_EQ(b.get(), raw);
    outer = std::move(b);
    EXPECT_FALSE(b.valid());  // NOLINT(bugprone-use-after-move)
  }
  // The moved-from owners died without closing it.
  EXPECT_TRUE(IsOpen(raw));
  outer.Reset();
  EXPECT_TRUE(IsClosed(raw));
  // A second Reset (and the destructor) does not close anything again: a new
  // descriptor that reuses the number must survive.
  int reused = NewRawFd();
  ASSERT_EQ(reused, raw);
  outer.Reset();
  EXPECT_TRUE(IsOpen(reused));
  ::close(reused);
}

TEST(OwnedFd, MoveAssignmentClosesThePreviousDescriptor) {
  int first = NewRawFd();
  int second = NewRawFd();
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  tubo::OwnedFd a = tubo::OwnedFd::Adopt(first);
  tubo::OwnedFd b = tubo::OwnedFd::Adopt(second);
  a = std::move(b);
  EXPECT_TRUE(IsClosed(first));
  EXPECT_EQ(a.get(), second);
  EXPECT_TRUE(IsOpen(second));
}

TEST(OwnedFd, SelfMoveAssignmentKeepsTheDescriptor) {
  int raw = NewRawFd();
  tubo::OwnedFd a = tubo::OwnedFd::Adopt(raw);
  tubo::OwnedFd& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(OwnedFd, ReleaseGivesUpOwnership) {
  int raw = NewRawFd();
  ASSERT_GE(raw, 0);
  {
    tubo::OwnedFd fd = tubo::OwnedFd::Adopt(raw);
    EXPECT_EQ(fd.Release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(OwnedFd, ResetClosesNow) {
  int raw = NewRawFd();
  tubo::OwnedFd fd = tubo::OwnedFd::Adopt(raw);
  fd.Reset();
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(IsClosed(raw));
}

TEST(OwnedFd, DuplicateIsCloseOnExecAndIndependent) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // deliberately without O_CLOEXEC
  ::close(fds[1]);
  ASSERT_FALSE(IsCloexec(fds[0]));
  tubo::OwnedFd fd = tubo::OwnedFd::Adopt(fds[0]);
  absl::StatusOr<tubo::OwnedFd> dup = fd.Duplicate();
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_NE(dup->get(), fd.get());
  EXPECT_GE(dup->get(), 3);
  EXPECT_TRUE(IsCloexec(dup->get()));
  const int dup_raw = dup->get();
  fd.Reset();
  EXPECT_TRUE(IsOpen(dup_raw));
}

TEST(OwnedFd, DuplicateOfEmptyFails) {
  tubo::OwnedFd fd;
  absl::StatusOr<tubo::OwnedFd> dup = fd.Duplicate();
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(OwnedFd, BorrowIsAViewThatDoesNotClose) {
  int raw = NewRawFd();
  tubo::OwnedFd fd = tubo::OwnedFd::Adopt(raw);
  {
    tubo::BorrowedFd view = fd.Borrow();
    EXPECT_EQ(view.get(), raw);
    EXPECT_TRUE(view.valid());
  }
  EXPECT_TRUE(IsOpen(raw));
  EXPECT_EQ(fd.get(), raw);
}

TEST(BorrowedFd, DefaultIsEmpty) {
  constexpr tubo::BorrowedFd view;
  static_assert(view.get() == -1);
  static_assert(!view.valid());
  static_assert(std::is_trivially_copyable_v<tubo::BorrowedFd>);
  EXPECT_FALSE(tubo::BorrowedFd(-1).valid());
  EXPECT_TRUE(tubo::BorrowedFd(0).valid());
}

// Pipe and DuplexPipe

static_assert(!std::is_copy_constructible_v<tubo::Pipe>);
static_assert(!std::is_copy_constructible_v<tubo::DuplexPipe>);
static_assert(!std::is_copy_constructible_v<tubo::ReadEnd>);
static_assert(!std::is_copy_assignable_v<tubo::ReadEnd>);
static_assert(!std::is_copy_constructible_v<tubo::WriteEnd>);
static_assert(!std::is_copy_assignable_v<tubo::WriteEnd>);
static_assert(!std::is_copy_constructible_v<tubo::DuplexEnd>);
static_assert(!std::is_copy_assignable_v<tubo::DuplexEnd>);
static_assert(std::is_nothrow_move_constructible_v<tubo::ReadEnd>);
static_assert(std::is_nothrow_move_constructible_v<tubo::WriteEnd>);
static_assert(std::is_nothrow_move_constructible_v<tubo::DuplexEnd>);

TEST(Pipe, BothEndsAreCloseOnExecFromCreation) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EXPECT_TRUE(IsCloexec(pipe->reader.fd().get()));
  EXPECT_TRUE(IsCloexec(pipe->writer.fd().get()));
  EXPECT_EQ(::fcntl(pipe->reader.fd().get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(::fcntl(pipe->writer.fd().get(), F_GETFL) & O_ACCMODE, O_WRONLY);
}

TEST(DuplexPipe, BothEndsAreCloseOnExecFromCreation) {
  absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EXPECT_TRUE(IsCloexec(pipe->first.fd().get()));
  EXPECT_TRUE(IsCloexec(pipe->second.fd().get()));
}

TEST(Pipe, EndsCloseTheirDescriptorsOnDestruction) {
  int r = -1, w = -1;
  {
    absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
    ASSERT_TRUE(pipe.ok());
    r = pipe->reader.fd().get();
    w = pipe->writer.fd().get();
  }
  EXPECT_TRUE(IsClosed(r));
  EXPECT_TRUE(IsClosed(w));
}

TEST(DuplexPipe, EndsCloseTheirDescriptorsOnDestruction) {
  int a = -1, b = -1;
  {
    absl::StatusOr<tubo::DuplexPipe> pipe = tubo::DuplexPipe::Create();
    ASSERT_TRUE(pipe.ok());
    a = pipe->first.fd().get();
    b = pipe->second.fd().get();
  }
  EXPECT_TRUE(IsClosed(a));
  EXPECT_TRUE(IsClosed(b));
}

TEST(Pipe, MovingAnEndMovesTheDescriptor) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  const int r = pipe->reader.fd().get();
  tubo::ReadEnd moved = std::move(pipe->reader);
  EXPECT_FALSE(pipe->reader.is_open());
  EXPECT_EQ(pipe->reader.fd().get(), -1);
  EXPECT_EQ(moved.fd().get(), r);
  EXPECT_TRUE(IsOpen(r));
}

}  // namespace
