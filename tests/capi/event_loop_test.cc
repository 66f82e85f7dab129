// What the C ABI gives event loops and bindings since 1.2, through its public
// header only: the errno of an error as a number (tubo_error_errno), the
// wait set's descriptor (tubo_wait_set_fd) and a process's pidfd
// (tubo_process_pidfd), checked with real pipes, processes and poll(2).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "tests/capi/capi_error.h"
#include "tubo.h"

namespace {

using tubo_capi_test::Err;

// True if `fd` is readable within `timeout_ms`.
bool Readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int n;
  do {
    n = poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n == 1 && (p.revents & POLLIN) != 0;
}

// A child running /bin/sh -c `script`.
tubo_process* Shell(const char* script) {
  tubo_command* c = nullptr;
  EXPECT_EQ(tubo_command_new(&c, "/bin/sh", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_command_arg(c, "-c", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_command_arg(c, script, nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  EXPECT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);
  return p;
}

// ------------------------------------------------------------ error errno

TEST(ErrorErrno, NullIsZero) { EXPECT_EQ(tubo_error_errno(nullptr), 0); }

TEST(ErrorErrno, SendToClosedReaderIsEpipe) {
  tubo_end *r = nullptr, *w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK);
  tubo_end_free(r);
  Err err;
  EXPECT_EQ(tubo_end_send(w, "x", 1, &err), TUBO_E_PEER_CLOSED);
  EXPECT_EQ(tubo_error_errno(err.e), EPIPE) << err.msg();
  tubo_end_free(w);
}

TEST(ErrorErrno, SpawnOfMissingProgramIsEnoent) {
  tubo_command* c = nullptr;
  ASSERT_EQ(tubo_command_new(&c, "/nonexistent/tubo-no-such-program", nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  Err err;
  EXPECT_EQ(tubo_command_spawn(&p, c, &err), TUBO_E_SPAWN);
  EXPECT_EQ(tubo_error_errno(err.e), ENOENT) << err.msg();
  EXPECT_EQ(p, nullptr);
  tubo_command_free(c);
}

TEST(ErrorErrno, SpawnOfDirectoryIsEacces) {
  tubo_command* c = nullptr;
  ASSERT_EQ(tubo_command_new(&c, "/", nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  Err err;
  EXPECT_EQ(tubo_command_spawn(&p, c, &err), TUBO_E_SPAWN);
  EXPECT_EQ(tubo_error_errno(err.e), EACCES) << err.msg();
  tubo_command_free(c);
}

TEST(ErrorErrno, FailureWithoutSystemCallIsZero) {
  Err err;
  EXPECT_EQ(tubo_end_send(nullptr, "x", 1, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_error_errno(err.e), 0);

  // Truncated: the writer died inside a frame header.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "\x00\x00", 2), 2);
  close(fds[1]);
  tubo_end* r = nullptr;
  ASSERT_EQ(tubo_end_adopt_fd(&r, fds[0], TUBO_END_READ, nullptr), TUBO_OK);
  tubo_bytes* m = nullptr;
  EXPECT_EQ(tubo_end_recv(&m, r, &err), TUBO_E_TRUNCATED);
  EXPECT_EQ(tubo_error_errno(err.e), 0) << err.msg();
  tubo_end_free(r);
}

// --------------------------------------------------------- wait set fd

TEST(WaitSetFd, NullIsMinusOne) { EXPECT_EQ(tubo_wait_set_fd(nullptr), -1); }

TEST(WaitSetFd, ReadableWhenWatchedPipeGetsMessage) {
  tubo_wait_set* set = nullptr;
  ASSERT_EQ(tubo_wait_set_new(&set, nullptr), TUBO_OK);
  const int fd = tubo_wait_set_fd(set);
  ASSERT_GE(fd, 3);
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  tubo_end *r = nullptr, *w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_add_end(set, r, 1, nullptr), TUBO_OK);
  EXPECT_FALSE(Readable(fd, 50));

  ASSERT_EQ(tubo_end_send(w, "hi", 2, nullptr), TUBO_OK);
  EXPECT_TRUE(Readable(fd, 5000));
  size_t n = 0;
  uint64_t key = 0;
  ASSERT_EQ(tubo_wait_set_wait(&n, set, &key, 1, 0, nullptr), TUBO_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(key, 1u);

  // Received: nothing left, so the descriptor is quiet again.
  tubo_bytes* m = nullptr;
  ASSERT_EQ(tubo_end_recv(&m, r, nullptr), TUBO_OK);
  tubo_bytes_free(m);
  EXPECT_FALSE(Readable(fd, 50));
  EXPECT_EQ(tubo_wait_set_fd(set), fd);  // one descriptor for the set's life

  tubo_wait_set_free(set);
  tubo_end_free(r);
  tubo_end_free(w);
}

TEST(WaitSetFd, ReadAheadIsReadyWhileFdIsQuiet) {
  // The documented rule: a message in the read-ahead buffer shows in a zero
  // wait, not on the descriptor.
  tubo_wait_set* set = nullptr;
  ASSERT_EQ(tubo_wait_set_new(&set, nullptr), TUBO_OK);
  tubo_end *r = nullptr, *w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_add_end(set, r, 1, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_send(w, "a", 1, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_send(w, "b", 1, nullptr), TUBO_OK);
  tubo_bytes* m = nullptr;
  ASSERT_EQ(tubo_end_recv(&m, r, nullptr), TUBO_OK);  // reads both, returns "a"
  tubo_bytes_free(m);
  size_t n = 0;
  uint64_t key = 0;
  ASSERT_EQ(tubo_wait_set_wait(&n, set, &key, 1, 0, nullptr), TUBO_OK);
  EXPECT_EQ(n, 1u);
  EXPECT_FALSE(Readable(tubo_wait_set_fd(set), 0));
  tubo_wait_set_free(set);
  tubo_end_free(r);
  tubo_end_free(w);
}

TEST(WaitSetFd, ReadableWhenWatchedChildExits) {
  tubo_end *r = nullptr, *w = nullptr;
  ASSERT_EQ(tubo_pipe_new(&r, &w, nullptr), TUBO_OK);
  // The child exits once its stdin (the pipe) reaches EOF.
  tubo_command* c = nullptr;
  ASSERT_EQ(tubo_command_new(&c, "/bin/sh", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_arg(c, "-c", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_arg(c, "read x; exit 3", nullptr), TUBO_OK);
  int read_fd = -1;
  ASSERT_EQ(tubo_end_release_fd(&read_fd, r, nullptr), TUBO_OK);
  tubo_end_free(r);
  ASSERT_EQ(tubo_command_stdio_fd(c, 0, read_fd, nullptr), TUBO_OK);  // consumed
  tubo_process* p = nullptr;
  ASSERT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);

  tubo_wait_set* set = nullptr;
  ASSERT_EQ(tubo_wait_set_new(&set, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_add_process(set, p, 9, nullptr), TUBO_OK);
  const int fd = tubo_wait_set_fd(set);
  EXPECT_FALSE(Readable(fd, 50));

  tubo_end_free(w);  // EOF on the child's stdin: it exits
  EXPECT_TRUE(Readable(fd, 10000));
  size_t n = 0;
  uint64_t key = 0;
  ASSERT_EQ(tubo_wait_set_wait(&n, set, &key, 1, 0, nullptr), TUBO_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(key, 9u);
  int code = 0;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 3);
  tubo_wait_set_free(set);
  tubo_process_free(p);
}

// -------------------------------------------------------------- pidfd

TEST(ProcessPidfd, NullIsMinusOne) { EXPECT_EQ(tubo_process_pidfd(nullptr), -1); }

TEST(ProcessPidfd, ReadableOnExitAndMinusOneAfterWait) {
  tubo_process* p = Shell("sleep 0.2; exit 5");
  ASSERT_NE(p, nullptr);
  const int fd = tubo_process_pidfd(p);
  ASSERT_GE(fd, 3);
  EXPECT_FALSE(Readable(fd, 0));  // still running
  EXPECT_TRUE(Readable(fd, 10000));
  int code = 0;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 5);
  EXPECT_EQ(tubo_process_pidfd(p), -1);
  tubo_process_free(p);
}

TEST(ProcessPidfd, MinusOneAfterDetach) {
  tubo_process* p = Shell("exit 0");
  ASSERT_NE(p, nullptr);
  ASSERT_GE(tubo_process_pidfd(p), 3);
  ASSERT_EQ(tubo_process_detach(p, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_process_pidfd(p), -1);
  tubo_process_free(p);
}

}  // namespace
