// The errno a tubo error carries (tubo::ErrorErrno): attached by WithErrno
// and SystemError, kept through copies, set by real failed system calls and
// absent from failures no system call caused.
#include <errno.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "gtest/gtest.h"
#include "tubo/tubo.h"

namespace {

TEST(ErrorErrno, NoneForOkAndForStatusesTuboDidNotMake) {
  EXPECT_EQ(tubo::ErrorErrno(absl::OkStatus()), 0);
  EXPECT_EQ(tubo::ErrorErrno(absl::ErrnoToStatus(ENOENT, "abseil alone")), 0);
  EXPECT_EQ(tubo::ErrorErrno(tubo::WithErrno(absl::OkStatus(), EPIPE)), 0);
  EXPECT_EQ(tubo::ErrorErrno(tubo::WithErrno(absl::InternalError("x"), 0)), 0);
}

TEST(ErrorErrno, WithErrnoAttachesAndCopiesKeepIt) {
  const absl::Status s = tubo::WithErrno(absl::InternalError("x"), EMFILE);
  EXPECT_EQ(tubo::ErrorErrno(s), EMFILE);
  absl::Status copy = s;
  EXPECT_EQ(tubo::ErrorErrno(copy), EMFILE);
  // A kind attached later leaves the errno alone, and the other way round.
  EXPECT_EQ(tubo::ErrorErrno(tubo::WithError(copy, tubo::Error::kSystem)), EMFILE);
  EXPECT_EQ(tubo::ErrorOf(tubo::WithErrno(
                tubo::WithError(absl::InternalError("x"), tubo::Error::kTruncated), EIO)),
            tubo::Error::kTruncated);
}

TEST(ErrorErrno, ForgedPayloadIsNotTrusted) {
  absl::Status forged = absl::InternalError("x");
  forged.SetPayload("type.tubo.dev/tubo.Errno", absl::Cord("not a number"));
  EXPECT_EQ(tubo::ErrorErrno(forged), 0);
  forged.SetPayload("type.tubo.dev/tubo.Errno", absl::Cord("-5"));
  EXPECT_EQ(tubo::ErrorErrno(forged), 0);
}

TEST(SystemError, CodeKindErrnoAndMessageFollowTheErrno) {
  const absl::Status s = tubo::SystemError(ENOENT, "open \"x\"");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kSystem);
  EXPECT_EQ(tubo::ErrorErrno(s), ENOENT);
  EXPECT_EQ(s.message(), std::string("open \"x\": ") + std::strerror(ENOENT));
  EXPECT_EQ(tubo::ErrorOf(tubo::SystemError(EPIPE, "send", tubo::Error::kPeerClosed)),
            tubo::Error::kPeerClosed);
}

TEST(ErrorErrno, SendToAPipeWithoutReadersIsEpipe) {
  absl::StatusOr<tubo::Pipe> pipe = tubo::Pipe::Create();
  ASSERT_TRUE(pipe.ok());
  ASSERT_TRUE(pipe->reader.Close().ok());
  const absl::Status s = pipe->writer.Send("x");
  EXPECT_EQ(tubo::ErrorOf(s), tubo::Error::kPeerClosed) << s;
  EXPECT_EQ(tubo::ErrorErrno(s), EPIPE) << s;
}

TEST(ErrorErrno, TruncatedMessageHasNone) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "\x00\x00", 2), 2);
  ::close(fds[1]);
  tubo::ReadEnd reader(tubo::OwnedFd::Adopt(fds[0]));
  absl::StatusOr<std::optional<tubo::Bytes>> m = reader.Recv();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(tubo::ErrorOf(m.status()), tubo::Error::kTruncated) << m.status();
  EXPECT_EQ(tubo::ErrorErrno(m.status()), 0);
}

}  // namespace
