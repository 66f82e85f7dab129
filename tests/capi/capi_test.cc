// The C ABI through its public header only (capi/tubo.h), linked against
// libtubo.so.1: every function, every documented code, NULL and invalid
// arguments, consumed-on-failure ownership, buffer-too-small and EOF paths.
// The test binary is also its own worker: main dispatches self entries.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/capi/capi_error.h"
#include "tubo.h"

namespace {

using tubo_capi_test::Err;

bool FdOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

std::string RecvStr(tubo_end* end, int* rc) {
  tubo_bytes* b = nullptr;
  *rc = tubo_end_recv(&b, end, nullptr);
  std::string s = b ? std::string(reinterpret_cast<const char*>(b->data), b->len) : "";
  tubo_bytes_free(b);
  return s;
}

void Pipe(tubo_end** r, tubo_end** w) { ASSERT_EQ(tubo_pipe_new(r, w, nullptr), TUBO_OK); }

// Self entry: echoes channel `in` to `out` until EOF (the echo_worker contract).
int EchoEntry(int argc, char** argv) {
  tubo_end *in = nullptr, *out = nullptr;
  tubo_error* err = nullptr;
  if (tubo_channel_take_read_end(&in, "in", &err) != TUBO_OK ||
      tubo_channel_take_write_end(&out, "out", &err) != TUBO_OK) {
    fprintf(stderr, "%s\n", tubo_error_message(err));
    return 3;
  }
  for (;;) {
    tubo_bytes* m = nullptr;
    int rc = tubo_end_recv(&m, in, nullptr);
    if (rc == TUBO_EOF) break;
    if (rc != TUBO_OK) return 4;
    rc = tubo_end_send(out, m->data, m->len, nullptr);
    tubo_bytes_free(m);
    if (rc != TUBO_OK) return 5;
  }
  tubo_end_free(in);
  tubo_end_free(out);
  return 0;
}

// Self entry: exits with the number of its arguments plus 10, checks argv[0].
int ArgsEntry(int argc, char** argv) {
  if (std::strcmp(argv[0], "args") != 0 || argv[argc] != nullptr) return 99;
  return 10 + argc - 1;
}

// --------------------------------------------------------------- version

TEST(Version, MacrosMatchRuntime) {
  EXPECT_EQ(TUBO_VERSION_MAJOR, 1);
  EXPECT_EQ(tubo_version(), unsigned{TUBO_VERSION_NUMBER});
  EXPECT_STREQ(tubo_version_string(), "1.2.0");
}

// ---------------------------------------------------------------- errors

TEST(Error, NullIsAllowed) {
  tubo_error_free(nullptr);
  EXPECT_EQ(tubo_error_code(nullptr), TUBO_OK);
  EXPECT_STREQ(tubo_error_message(nullptr), "");
}

TEST(Error, CodeNames) {
  EXPECT_STREQ(tubo_code_name(TUBO_OK), "ok");
  EXPECT_STREQ(tubo_code_name(TUBO_EOF), "eof");
  EXPECT_STREQ(tubo_code_name(TUBO_E_TRUNCATED), "truncated");
  EXPECT_STREQ(tubo_code_name(TUBO_E_BUFFER_TOO_SMALL), "buffer_too_small");
  EXPECT_STREQ(tubo_code_name(TUBO_E_NO_MEMORY), "no_memory");
  EXPECT_STREQ(tubo_code_name(12345), "unknown");
  for (int c = TUBO_E_OTHER; c >= TUBO_E_CHANNEL; --c) {
    EXPECT_STRNE(tubo_code_name(c), "unknown") << c;
  }
}

TEST(Error, SuccessStoresNull) {
  tubo_error* err = reinterpret_cast<tubo_error*>(0x1);
  tubo_end *r, *w;
  ASSERT_EQ(tubo_pipe_new(&r, &w, &err), TUBO_OK);
  EXPECT_EQ(err, nullptr);
  tubo_end_free(r);
  tubo_end_free(w);
}

// ----------------------------------------------------------------- pipes

TEST(Pipe, SendRecvThenEof) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  EXPECT_EQ(tubo_end_kind_of(r), TUBO_END_READ);
  EXPECT_EQ(tubo_end_kind_of(w), TUBO_END_WRITE);
  EXPECT_EQ(tubo_end_kind_of(nullptr), 0);
  ASSERT_EQ(tubo_end_send(w, "hello", 5, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_send(w, nullptr, 0, nullptr), TUBO_OK);
  tubo_end_free(w);
  int rc;
  EXPECT_EQ(RecvStr(r, &rc), "hello");
  EXPECT_EQ(rc, TUBO_OK);
  EXPECT_EQ(RecvStr(r, &rc), "");
  EXPECT_EQ(rc, TUBO_OK);
  tubo_bytes* b = reinterpret_cast<tubo_bytes*>(0x1);
  Err err;
  EXPECT_EQ(tubo_end_recv(&b, r, &err), TUBO_EOF);
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(err.e, nullptr);
  EXPECT_EQ(tubo_end_recv(&b, r, &err), TUBO_EOF);  // again
  tubo_end_free(r);
  tubo_bytes_free(nullptr);
  tubo_end_free(nullptr);
}

TEST(Pipe, RecvIntoTooSmallKeepsMessage) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  ASSERT_EQ(tubo_end_send(w, "0123456789", 10, nullptr), TUBO_OK);
  tubo_end_free(w);
  char buf[16];
  size_t n = 0;
  Err err;
  EXPECT_EQ(tubo_end_recv_into(&n, r, buf, 4, &err), TUBO_E_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(err.code(), TUBO_E_BUFFER_TOO_SMALL);
  EXPECT_NE(err.msg().find("10"), std::string::npos);
  EXPECT_EQ(tubo_end_recv_into(&n, r, nullptr, 0, &err), TUBO_E_BUFFER_TOO_SMALL);
  ASSERT_EQ(tubo_end_recv_into(&n, r, buf, sizeof buf, &err), TUBO_OK);
  EXPECT_EQ(std::string(buf, n), "0123456789");
  EXPECT_EQ(tubo_end_recv_into(&n, r, buf, sizeof buf, &err), TUBO_EOF);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(tubo_end_recv_into(&n, r, nullptr, 5, &err), TUBO_E_INVALID_ARGUMENT);
  tubo_end_free(r);
}

TEST(Pipe, TruncatedIsStickyError) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  tubo_end* r;
  ASSERT_EQ(tubo_end_adopt_fd(&r, fds[0], TUBO_END_READ, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_end_fd(r), fds[0]);
  ASSERT_EQ(write(fds[1], "\0\0", 2), 2);
  close(fds[1]);
  tubo_bytes* b = nullptr;
  Err err;
  EXPECT_EQ(tubo_end_recv(&b, r, &err), TUBO_E_TRUNCATED);
  EXPECT_EQ(err.code(), TUBO_E_TRUNCATED);
  EXPECT_FALSE(err.msg().empty());
  EXPECT_EQ(tubo_end_recv(&b, r, &err), TUBO_E_TRUNCATED);
  EXPECT_EQ(b, nullptr);
  tubo_end_free(r);
}

TEST(Pipe, BadLength) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  tubo_end* r;
  ASSERT_EQ(tubo_end_adopt_fd(&r, fds[0], TUBO_END_READ, nullptr), TUBO_OK);
  ASSERT_EQ(write(fds[1], "\xff\xff\xff\xfe", 4), 4);
  close(fds[1]);
  tubo_bytes* b = nullptr;
  EXPECT_EQ(tubo_end_recv(&b, r, nullptr), TUBO_E_BAD_LENGTH);
  tubo_end_free(r);
}

TEST(Pipe, TooLargeAndMaxSize) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  EXPECT_EQ(tubo_end_max_message_size(r), uint64_t{1} << 30);
  EXPECT_EQ(tubo_end_max_message_size(w), 0u);
  EXPECT_EQ(tubo_end_max_message_size(nullptr), 0u);
  ASSERT_EQ(tubo_end_set_max_message_size(r, 3, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_end_max_message_size(r), 3u);
  Err err;
  EXPECT_EQ(tubo_end_set_max_message_size(w, 3, &err), TUBO_E_INVALID_ARGUMENT);
  ASSERT_EQ(tubo_end_send(w, "abcd", 4, nullptr), TUBO_OK);
  tubo_bytes* b = nullptr;
  EXPECT_EQ(tubo_end_recv(&b, r, &err), TUBO_E_TOO_LARGE);
  int ready = 0;
  EXPECT_EQ(tubo_end_poll(&ready, r, 0, &err), TUBO_E_TOO_LARGE);  // sticky
  tubo_end_free(r);
  tubo_end_free(w);
}

TEST(Pipe, PeerClosedAndClosed) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  tubo_end_free(r);
  Err err;
  EXPECT_EQ(tubo_end_send(w, "x", 1, &err), TUBO_E_PEER_CLOSED);
  EXPECT_EQ(tubo_end_close(w, &err), TUBO_OK);
  EXPECT_EQ(tubo_end_close(w, &err), TUBO_OK);
  EXPECT_EQ(tubo_end_fd(w), -1);
  EXPECT_EQ(tubo_end_send(w, "x", 1, &err), TUBO_E_CLOSED);
  EXPECT_EQ(err.code(), TUBO_E_CLOSED);
  tubo_end_free(w);
}

TEST(Pipe, WrongKindIsInvalidArgument) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  Err err;
  EXPECT_EQ(tubo_end_send(r, "x", 1, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("tubo_end_send"), std::string::npos);
  tubo_bytes* b = nullptr;
  EXPECT_EQ(tubo_end_recv(&b, w, &err), TUBO_E_INVALID_ARGUMENT);
  size_t n;
  EXPECT_EQ(tubo_end_recv_into(&n, w, nullptr, 0, &err), TUBO_E_INVALID_ARGUMENT);
  int ready;
  EXPECT_EQ(tubo_end_poll(&ready, w, 0, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_flush(r, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_set_send_buffer_size(r, 10, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_close_write(w, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_end_send(w, nullptr, 3, &err), TUBO_E_INVALID_ARGUMENT);
  tubo_end_free(r);
  tubo_end_free(w);
}

TEST(Pipe, PollAndSendBuffer) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  int ready = -1;
  ASSERT_EQ(tubo_end_poll(&ready, r, 0, nullptr), TUBO_OK);
  EXPECT_EQ(ready, 0);
  ASSERT_EQ(tubo_end_poll(&ready, r, 10, nullptr), TUBO_OK);
  EXPECT_EQ(ready, 0);
  EXPECT_EQ(tubo_end_send_buffer_size(w), 0u);
  ASSERT_EQ(tubo_end_set_send_buffer_size(w, 4096, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_end_send_buffer_size(w), 4096u);
  EXPECT_EQ(tubo_end_send_buffer_size(r), 0u);
  EXPECT_EQ(tubo_end_send_buffer_size(nullptr), 0u);
  ASSERT_EQ(tubo_end_send(w, "abc", 3, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_poll(&ready, r, 0, nullptr), TUBO_OK);
  EXPECT_EQ(ready, 0);  // still buffered
  ASSERT_EQ(tubo_end_flush(w, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_poll(&ready, r, -1, nullptr), TUBO_OK);
  EXPECT_EQ(ready, 1);
  tubo_end_free(r);
  tubo_end_free(w);
}

TEST(Pipe, BufferedMessagesLeaveOnFree) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  ASSERT_EQ(tubo_end_set_send_buffer_size(w, 4096, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_send(w, "late", 4, nullptr), TUBO_OK);
  tubo_end_free(w);
  int rc;
  EXPECT_EQ(RecvStr(r, &rc), "late");
  tubo_end_free(r);
}

TEST(Duplex, BothWaysAndHalfClose) {
  tubo_end *a, *b;
  ASSERT_EQ(tubo_duplex_pipe_new(&a, &b, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_end_kind_of(a), TUBO_END_DUPLEX);
  ASSERT_EQ(tubo_end_send(a, "ping", 4, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_close_write(a, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_close_write(a, nullptr), TUBO_OK);
  Err err;
  EXPECT_EQ(tubo_end_send(a, "x", 1, &err), TUBO_E_CLOSED);
  int rc;
  EXPECT_EQ(RecvStr(b, &rc), "ping");
  RecvStr(b, &rc);
  EXPECT_EQ(rc, TUBO_EOF);
  ASSERT_EQ(tubo_end_send(b, "pong", 4, nullptr), TUBO_OK);
  EXPECT_EQ(RecvStr(a, &rc), "pong");
  EXPECT_EQ(tubo_end_set_max_message_size(a, 100, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_end_max_message_size(a), 100u);
  tubo_end_free(a);
  tubo_end_free(b);
}

TEST(End, AdoptFdConsumedOnFailure) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  tubo_end* e = nullptr;
  Err err;
  EXPECT_EQ(tubo_end_adopt_fd(&e, fds[0], 42, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_FALSE(FdOpen(fds[0]));
  EXPECT_EQ(tubo_end_adopt_fd(nullptr, fds[1], TUBO_END_WRITE, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_FALSE(FdOpen(fds[1]));
  EXPECT_EQ(tubo_end_adopt_fd(&e, -1, TUBO_END_READ, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(e, nullptr);
}

TEST(End, ReleaseFd) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  int fd = -1;
  ASSERT_EQ(tubo_end_release_fd(&fd, w, nullptr), TUBO_OK);
  EXPECT_TRUE(FdOpen(fd));
  EXPECT_EQ(tubo_end_fd(w), -1);
  Err err;
  EXPECT_EQ(tubo_end_release_fd(&fd, w, &err), TUBO_E_CLOSED);
  tubo_end_free(w);
  tubo_end* w2;
  ASSERT_EQ(tubo_end_adopt_fd(&w2, fd, TUBO_END_WRITE, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_send(w2, "z", 1, nullptr), TUBO_OK);
  tubo_end_free(w2);
  int rc;
  EXPECT_EQ(RecvStr(r, &rc), "z");
  tubo_end_free(r);
}

TEST(Null, EveryHandleArgument) {
  Err err;
  tubo_end *r, *w;
  Pipe(&r, &w);
  tubo_bytes* b;
  size_t n;
  int i;
  const int kInvalid = TUBO_E_INVALID_ARGUMENT;
  EXPECT_EQ(tubo_pipe_new(nullptr, &w, &err), kInvalid);
  EXPECT_EQ(tubo_pipe_new(&r, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_duplex_pipe_new(nullptr, &w, &err), kInvalid);
  EXPECT_EQ(tubo_duplex_pipe_new(&r, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_end_send(nullptr, "x", 1, &err), kInvalid);
  EXPECT_NE(err.msg().find("NULL"), std::string::npos);
  EXPECT_EQ(tubo_end_recv(nullptr, r, &err), kInvalid);
  EXPECT_EQ(tubo_end_recv(&b, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_end_recv_into(nullptr, r, nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_end_recv_into(&n, nullptr, nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_end_poll(nullptr, r, 0, &err), kInvalid);
  EXPECT_EQ(tubo_end_poll(&i, nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_end_close(nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_end_close_write(nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_end_set_max_message_size(nullptr, 1, &err), kInvalid);
  EXPECT_EQ(tubo_end_set_send_buffer_size(nullptr, 1, &err), kInvalid);
  EXPECT_EQ(tubo_end_flush(nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_end_release_fd(nullptr, r, &err), kInvalid);
  EXPECT_EQ(tubo_end_release_fd(&i, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_end_fd(nullptr), -1);
  EXPECT_EQ(tubo_channel_take_read_end(nullptr, "x", &err), kInvalid);
  EXPECT_EQ(tubo_channel_take_write_end(&r, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_channel_take_duplex_end(&r, nullptr, &err), kInvalid);
  tubo_command* c;
  EXPECT_EQ(tubo_command_new(nullptr, "x", &err), kInvalid);
  EXPECT_EQ(tubo_command_new(&c, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_new_self(nullptr, "x", &err), kInvalid);
  EXPECT_EQ(tubo_command_new_self(&c, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_arg(nullptr, "x", &err), kInvalid);
  EXPECT_EQ(tubo_command_argv0(nullptr, "x", &err), kInvalid);
  EXPECT_EQ(tubo_command_search_path(nullptr, 1, &err), kInvalid);
  EXPECT_EQ(tubo_command_env_clear(nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_env_set(nullptr, "a", "b", &err), kInvalid);
  EXPECT_EQ(tubo_command_env_unset(nullptr, "a", &err), kInvalid);
  EXPECT_EQ(tubo_command_working_directory(nullptr, "/", &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_inherit(nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_null(nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_path(nullptr, 0, "/x", &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_fd(nullptr, 0, -1, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_end(nullptr, 0, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_channel(nullptr, "x", nullptr, &err), kInvalid);
  tubo_process* p;
  EXPECT_EQ(tubo_command_spawn(&p, nullptr, &err), kInvalid);
  ASSERT_EQ(tubo_command_new(&c, "/bin/true", &err), TUBO_OK);
  EXPECT_EQ(tubo_command_arg(c, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_argv0(c, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_env_set(c, "a", nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_env_set(c, nullptr, "b", &err), kInvalid);
  EXPECT_EQ(tubo_command_env_unset(c, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_working_directory(c, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_path(c, 1, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_null(c, 3, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_inherit(c, -1, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_path(c, 7, "/x", &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_end(c, 1, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_stdio_fd(c, 1, -1, &err), kInvalid);
  EXPECT_EQ(tubo_command_channel(c, "x", nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_command_spawn(nullptr, c, &err), kInvalid);
  tubo_command_free(c);
  tubo_command_free(nullptr);
  EXPECT_EQ(tubo_entry_register(nullptr, ArgsEntry, &err), kInvalid);
  EXPECT_EQ(tubo_entry_register("zz", nullptr, &err), kInvalid);
  tubo_run_entry_if_requested(0, nullptr);
  EXPECT_EQ(tubo_fork(
                nullptr, [](void*, tubo_end**, size_t) { return 0; }, nullptr, nullptr, 0, 0, &err),
            kInvalid);
  EXPECT_EQ(tubo_fork(&p, nullptr, nullptr, nullptr, 0, 0, &err), kInvalid);
  EXPECT_EQ(tubo_fork(
                &p, [](void*, tubo_end**, size_t) { return 0; }, nullptr, nullptr, 2, 0, &err),
            kInvalid);
  tubo_process_free(nullptr);
  EXPECT_EQ(tubo_process_pid(nullptr), -1);
  EXPECT_EQ(tubo_process_wait(&i, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_process_wait_timeout(&i, nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_process_try_wait(&i, nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_process_signal(nullptr, SIGTERM, &err), kInvalid);
  EXPECT_EQ(tubo_process_terminate(nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_process_kill(nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_process_detach(nullptr, &err), kInvalid);
  EXPECT_EQ(tubo_process_set_stop_grace(nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_process_set_stop_signal(nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_process_set_stop_timeout(nullptr, 0, &err), kInvalid);
  EXPECT_EQ(tubo_process_reaped(nullptr), 0);
  EXPECT_EQ(tubo_process_exited(nullptr), 0);
  EXPECT_EQ(tubo_process_exit_code(nullptr), -1);
  EXPECT_EQ(tubo_process_signaled(nullptr), 0);
  EXPECT_EQ(tubo_process_term_signal(nullptr), 0);
  EXPECT_EQ(tubo_process_core_dumped(nullptr), 0);
  EXPECT_EQ(tubo_process_returncode(nullptr), 0);
  tubo_wait_set* s;
  EXPECT_EQ(tubo_wait_set_new(nullptr, &err), kInvalid);
  tubo_wait_set_free(nullptr);
  EXPECT_EQ(tubo_wait_set_add_end(nullptr, r, 1, &err), kInvalid);
  EXPECT_EQ(tubo_wait_set_add_process(nullptr, nullptr, 1, &err), kInvalid);
  EXPECT_EQ(tubo_wait_set_remove(nullptr, 1, &err), kInvalid);
  EXPECT_EQ(tubo_wait_set_size(nullptr), 0u);
  EXPECT_EQ(tubo_wait_set_wait(&n, nullptr, nullptr, 0, 0, &err), kInvalid);
  ASSERT_EQ(tubo_wait_set_new(&s, &err), TUBO_OK);
  EXPECT_EQ(tubo_wait_set_add_end(s, nullptr, 1, &err), kInvalid);
  EXPECT_EQ(tubo_wait_set_add_process(s, nullptr, 1, &err), kInvalid);
  EXPECT_EQ(tubo_wait_set_wait(nullptr, s, nullptr, 0, 0, &err), kInvalid);
  EXPECT_EQ(tubo_wait_set_wait(&n, s, nullptr, 3, 0, &err), kInvalid);
  tubo_wait_set_free(s);
  // A NULL err is fine everywhere.
  EXPECT_EQ(tubo_end_send(nullptr, "x", 1, nullptr), kInvalid);
  tubo_end_free(r);
  tubo_end_free(w);
}

// -------------------------------------------------------- consumed ends

TEST(Consumed, ChannelEndClosedEvenOnFailure) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  Err err;
  EXPECT_EQ(tubo_command_channel(nullptr, "in", w, &err), TUBO_E_INVALID_ARGUMENT);
  int rc;
  RecvStr(r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);  // the write end is gone
  tubo_end_free(r);

  Pipe(&r, &w);
  tubo_command* c;
  ASSERT_EQ(tubo_command_new(&c, "/bin/true", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_command_channel(c, "bad name!", w, &err), TUBO_E_INVALID_ARGUMENT);
  RecvStr(r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);
  tubo_end_free(r);

  Pipe(&r, &w);
  EXPECT_EQ(tubo_command_stdio_end(c, 9, w, &err), TUBO_E_INVALID_ARGUMENT);
  RecvStr(r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);
  tubo_end_free(r);

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_EQ(tubo_command_stdio_fd(c, 9, fds[1], &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_FALSE(FdOpen(fds[1]));
  close(fds[0]);
  tubo_command_free(c);
}

TEST(Consumed, ChannelsOfAFreedCommandAreClosed) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  tubo_command* c;
  ASSERT_EQ(tubo_command_new(&c, "/bin/true", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_channel(c, "out", w, nullptr), TUBO_OK);
  tubo_command_free(c);
  int rc;
  RecvStr(r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);
  tubo_end_free(r);
}

TEST(Consumed, ForkEndsClosedOnFailure) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  tubo_end* ends[2] = {w, nullptr};
  tubo_process* p = nullptr;
  Err err;
  EXPECT_EQ(tubo_fork(
                &p, [](void*, tubo_end**, size_t) { return 0; }, nullptr, ends, 2, 0, &err),
            TUBO_E_INVALID_ARGUMENT);
  int rc;
  RecvStr(r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);
  tubo_end_free(r);

  Pipe(&r, &w);
  ends[0] = w;
  EXPECT_EQ(tubo_fork(
                &p, [](void*, tubo_end**, size_t) { return 0; }, nullptr, ends, 1, 0x80, &err),
            TUBO_E_INVALID_ARGUMENT);
  RecvStr(r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);
  tubo_end_free(r);
  EXPECT_EQ(p, nullptr);
}

// ------------------------------------------------------------------ fork

struct ForkCtx {
  const char* word;
};

int ForkSends(void* ctx, tubo_end** ends, size_t n) {
  if (n != 1 || tubo_end_kind_of(ends[0]) != TUBO_END_WRITE) return 90;
  const char* word = static_cast<ForkCtx*>(ctx)->word;
  // Buffered, and left for the library to flush when the function returns.
  tubo_end_set_send_buffer_size(ends[0], 1024, nullptr);
  tubo_end_send(ends[0], word, std::strlen(word), nullptr);
  return 7;
}

TEST(Fork, RunsFunctionWithEndsAndContext) {
  tubo_end *r, *w;
  Pipe(&r, &w);
  ForkCtx ctx{"forked"};
  tubo_process* p = nullptr;
  ASSERT_EQ(tubo_fork(&p, ForkSends, &ctx, &w, 1, 0, nullptr), TUBO_OK);
  EXPECT_GT(tubo_process_pid(p), 0);
  int rc;
  EXPECT_EQ(RecvStr(r, &rc), "forked");
  RecvStr(r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);  // the parent's copy was consumed
  int code = -1;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 7);
  EXPECT_EQ(tubo_process_reaped(p), 1);
  EXPECT_EQ(tubo_process_exited(p), 1);
  EXPECT_EQ(tubo_process_exit_code(p), 7);
  EXPECT_EQ(tubo_process_returncode(p), 7);
  EXPECT_EQ(tubo_process_signaled(p), 0);
  EXPECT_EQ(tubo_process_term_signal(p), 0);
  EXPECT_EQ(tubo_process_core_dumped(p), 0);
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);  // again: same status
  EXPECT_EQ(code, 7);
  tubo_process_free(p);
  tubo_end_free(r);
}

TEST(Fork, RefusedWithThreadsUnlessAllowed) {
  std::atomic<bool> stop{false};
  std::thread t([&] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  tubo_process* p = nullptr;
  Err err;
  EXPECT_EQ(tubo_fork(
                &p, [](void*, tubo_end**, size_t) { return 0; }, nullptr, nullptr, 0, 0, &err),
            TUBO_E_SPAWN);
  EXPECT_NE(err.msg().find("threads"), std::string::npos);
  ASSERT_EQ(tubo_fork(
                &p, [](void*, tubo_end**, size_t) { return 3; }, nullptr, nullptr, 0,
                TUBO_FORK_ALLOW_THREADS, &err),
            TUBO_OK);
  stop = true;
  t.join();
  int code;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 3);
  tubo_process_free(p);
}

// ------------------------------------------------------- exec and self

tubo_process* SpawnSh(const char* script) {
  tubo_command* c = nullptr;
  EXPECT_EQ(tubo_command_new(&c, "/bin/sh", nullptr), TUBO_OK);
  tubo_command_arg(c, "-c", nullptr);
  tubo_command_arg(c, script, nullptr);
  tubo_process* p = nullptr;
  EXPECT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);
  return p;
}

TEST(Command, ExitCode) {
  tubo_process* p = SpawnSh("exit 3");
  int code = -1;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 3);
  tubo_process_free(p);
}

TEST(Command, SpawnErrorNamesProgram) {
  tubo_command* c;
  ASSERT_EQ(tubo_command_new(&c, "/nonexistent/prog", nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  Err err;
  EXPECT_EQ(tubo_command_spawn(&p, c, &err), TUBO_E_SPAWN);
  EXPECT_EQ(err.code(), TUBO_E_SPAWN);
  EXPECT_NE(err.msg().find("/nonexistent/prog"), std::string::npos);
  EXPECT_EQ(p, nullptr);
  tubo_command_free(c);
}

TEST(Command, EnvCwdStdioAndSearchPath) {
  const std::string dir = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
  const std::string out = dir + "/cmd_out.txt";
  tubo_command* c;
  ASSERT_EQ(tubo_command_new(&c, "sh", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_search_path(c, 1, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_argv0(c, "mysh", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_arg(c, "-c", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_arg(c, "echo \"$A|${B-unset}|$(pwd)|$0\"; echo err >&2", nullptr),
            TUBO_OK);
  ASSERT_EQ(tubo_command_env_clear(c, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_env_set(c, "PATH", "/usr/bin:/bin", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_env_set(c, "A", "apple", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_env_set(c, "B", "banana", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_env_unset(c, "B", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_working_directory(c, "/", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_stdio_null(c, TUBO_STDIN, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_stdio_path(c, TUBO_STDOUT, out.c_str(), nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_stdio_null(c, TUBO_STDERR, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_stdio_inherit(c, TUBO_STDERR, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_stdio_null(c, TUBO_STDERR, nullptr), TUBO_OK);
  tubo_process* p;
  ASSERT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);
  int code;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 0);
  tubo_process_free(p);
  std::ifstream f(out);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "apple|unset|/|mysh");
}

TEST(Command, StdioFdAndEnd) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  tubo_end *r, *w;
  Pipe(&r, &w);
  tubo_command* c;
  ASSERT_EQ(tubo_command_new(&c, "/bin/sh", nullptr), TUBO_OK);
  tubo_command_arg(c, "-c", nullptr);
  tubo_command_arg(c, "printf xy; printf '\\000\\000\\000\\002ok' >&2", nullptr);
  ASSERT_EQ(tubo_command_stdio_fd(c, TUBO_STDOUT, fds[1], nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_stdio_end(c, TUBO_STDERR, w, nullptr), TUBO_OK);
  tubo_process* p;
  ASSERT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);
  char buf[8];
  ssize_t n = read(fds[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "xy");
  close(fds[0]);
  int rc;
  EXPECT_EQ(RecvStr(r, &rc), "ok");
  tubo_end_free(r);
  ASSERT_EQ(tubo_process_wait(nullptr, p, nullptr), TUBO_OK);
  tubo_process_free(p);
}

TEST(Self, EchoWorkerOverChannels) {
  tubo_end *in_r, *in_w, *out_r, *out_w;
  Pipe(&in_r, &in_w);
  Pipe(&out_r, &out_w);
  tubo_command* c;
  ASSERT_EQ(tubo_command_new_self(&c, "echo", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_channel(c, "in", in_r, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_channel(c, "out", out_w, nullptr), TUBO_OK);
  tubo_process* p;
  Err err;
  ASSERT_EQ(tubo_command_spawn(&p, c, &err), TUBO_OK) << err.msg();
  tubo_command_free(c);
  for (const char* m : {"one", "", "three"}) {
    ASSERT_EQ(tubo_end_send(in_w, m, std::strlen(m), nullptr), TUBO_OK);
  }
  tubo_end_free(in_w);
  int rc;
  EXPECT_EQ(RecvStr(out_r, &rc), "one");
  EXPECT_EQ(RecvStr(out_r, &rc), "");
  EXPECT_EQ(RecvStr(out_r, &rc), "three");
  RecvStr(out_r, &rc);
  EXPECT_EQ(rc, TUBO_EOF);
  int code;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 0);
  tubo_process_free(p);
  tubo_end_free(out_r);
}

TEST(Self, ArgsReachTheEntry) {
  tubo_command* c;
  ASSERT_EQ(tubo_command_new_self(&c, "args", nullptr), TUBO_OK);
  tubo_command_arg(c, "a", nullptr);
  tubo_command_arg(c, "b", nullptr);
  tubo_process* p;
  ASSERT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);
  int code;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 12);
  tubo_process_free(p);
}

TEST(Self, UnknownEntryIsSpawnError) {
  tubo_command* c;
  ASSERT_EQ(tubo_command_new_self(&c, "nope", nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  Err err;
  EXPECT_EQ(tubo_command_spawn(&p, c, &err), TUBO_E_SPAWN);
  tubo_command_free(c);
}

TEST(Entry, RegisterRejectsDuplicatesAndBadNames) {
  Err err;
  EXPECT_EQ(tubo_entry_register("echo", EchoEntry, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_entry_register("bad name", EchoEntry, &err), TUBO_E_INVALID_ARGUMENT);
  char a0[] = "prog", a1[] = "--not-an-entry";
  char* argv[] = {a0, a1, nullptr};
  tubo_run_entry_if_requested(2, argv);  // returns
}

TEST(Channel, TakeErrors) {
  Err err;
  tubo_end* e = nullptr;
  unsetenv("TUBO_CHANNELS");
  EXPECT_EQ(tubo_channel_take_read_end(&e, "in", &err), TUBO_E_CHANNEL);
  EXPECT_EQ(err.code(), TUBO_E_CHANNEL);
  setenv("TUBO_CHANNELS", "x:abc:r", 1);
  EXPECT_EQ(tubo_channel_take_write_end(&e, "x", &err), TUBO_E_CHANNEL);
  EXPECT_EQ(tubo_channel_take_duplex_end(&e, "x", &err), TUBO_E_CHANNEL);
  unsetenv("TUBO_CHANNELS");
  EXPECT_EQ(e, nullptr);
}

// ------------------------------------------------------------- processes

TEST(Process, TimeoutsKillAndSignalStatus) {
  tubo_process* p = SpawnSh("sleep 30");
  int code = 12345;
  Err err;
  EXPECT_EQ(tubo_process_try_wait(&code, p, &err), TUBO_E_TIMEOUT);
  EXPECT_EQ(tubo_process_wait_timeout(&code, p, 20, &err), TUBO_E_TIMEOUT);
  EXPECT_EQ(code, 12345);
  EXPECT_EQ(tubo_process_reaped(p), 0);
  EXPECT_EQ(tubo_process_signal(p, 100000, &err), TUBO_E_SYSTEM);
  ASSERT_EQ(tubo_process_kill(p, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_process_wait_timeout(&code, p, -1, nullptr), TUBO_OK);
  EXPECT_EQ(code, -SIGKILL);
  EXPECT_EQ(tubo_process_signaled(p), 1);
  EXPECT_EQ(tubo_process_exited(p), 0);
  EXPECT_EQ(tubo_process_term_signal(p), SIGKILL);
  EXPECT_EQ(tubo_process_exit_code(p), -1);
  EXPECT_EQ(tubo_process_returncode(p), -SIGKILL);
  EXPECT_EQ(tubo_process_core_dumped(p), 0);
  EXPECT_EQ(tubo_process_signal(p, SIGTERM, nullptr), TUBO_OK);  // reaped: no-op
  tubo_process_free(p);
}

TEST(Process, TerminateAndSignal) {
  tubo_process* p = SpawnSh("sleep 30");
  ASSERT_EQ(tubo_process_terminate(p, nullptr), TUBO_OK);
  int code;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, -SIGTERM);
  tubo_process_free(p);
  p = SpawnSh("sleep 30");
  ASSERT_EQ(tubo_process_signal(p, SIGINT, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, -SIGINT);
  tubo_process_free(p);
}

TEST(Process, TryWaitReapsExited) {
  tubo_process* p = SpawnSh("exit 5");
  int code = -1;
  int rc;
  for (int i = 0; i < 500; ++i) {
    rc = tubo_process_try_wait(&code, p, nullptr);
    if (rc != TUBO_E_TIMEOUT) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(rc, TUBO_OK);
  EXPECT_EQ(code, 5);
  tubo_process_free(p);
}

TEST(Process, FreeRunsStopSequence) {
  tubo_process* p = SpawnSh("sleep 30");
  Err err;
  EXPECT_EQ(tubo_process_set_stop_signal(p, -1, &err), TUBO_E_INVALID_ARGUMENT);
  ASSERT_EQ(tubo_process_set_stop_grace(p, 0, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_process_set_stop_signal(p, SIGTERM, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_process_set_stop_timeout(p, 1000, nullptr), TUBO_OK);
  auto start = std::chrono::steady_clock::now();
  tubo_process_free(p);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Process, DetachLeavesHandleEmpty) {
  tubo_process* p = SpawnSh("exit 0");
  ASSERT_EQ(tubo_process_detach(p, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_process_pid(p), -1);
  Err err;
  EXPECT_EQ(tubo_process_wait(nullptr, p, &err), TUBO_E_CLOSED);
  EXPECT_EQ(tubo_process_kill(p, &err), TUBO_E_CLOSED);
  tubo_process_free(p);
}

// -------------------------------------------------------------- wait set

TEST(WaitSet, EndsAndProcesses) {
  tubo_wait_set* s;
  ASSERT_EQ(tubo_wait_set_new(&s, nullptr), TUBO_OK);
  tubo_end *r, *w, *d1, *d2;
  Pipe(&r, &w);
  ASSERT_EQ(tubo_duplex_pipe_new(&d1, &d2, nullptr), TUBO_OK);
  tubo_process* p = SpawnSh("exit 0");
  Err err;
  ASSERT_EQ(tubo_wait_set_add_end(s, r, 1, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_add_end(s, d1, 2, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_wait_set_add_end(s, w, 3, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_wait_set_add_end(s, d2, 1, &err), TUBO_E_INVALID_ARGUMENT);  // key in use
  EXPECT_EQ(tubo_wait_set_size(s), 2u);
  uint64_t keys[4];
  size_t n = 99;
  ASSERT_EQ(tubo_wait_set_wait(&n, s, keys, 4, 0, nullptr), TUBO_OK);
  EXPECT_EQ(n, 0u);
  ASSERT_EQ(tubo_wait_set_add_process(s, p, 7, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_wait(&n, s, keys, 4, -1, nullptr), TUBO_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(keys[0], 7u);
  ASSERT_EQ(tubo_process_wait(nullptr, p, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_wait_set_remove(s, 7, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_wait_set_remove(s, 7, &err), TUBO_E_INVALID_ARGUMENT);
  ASSERT_EQ(tubo_end_send(w, "x", 1, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_end_send(d2, "y", 1, nullptr), TUBO_OK);
  // Only room for one key: the other stays ready for the next wait.
  ASSERT_EQ(tubo_wait_set_wait(&n, s, keys, 1, 1000, nullptr), TUBO_OK);
  EXPECT_EQ(n, 1u);
  ASSERT_EQ(tubo_wait_set_wait(&n, s, keys, 4, 1000, nullptr), TUBO_OK);
  EXPECT_EQ(n, 2u);
  ASSERT_EQ(tubo_wait_set_wait(&n, s, nullptr, 0, 0, nullptr), TUBO_OK);
  EXPECT_EQ(n, 0u);
  tubo_wait_set_free(s);
  tubo_end_free(r);
  tubo_end_free(w);
  tubo_end_free(d1);
  tubo_end_free(d2);
  tubo_process_free(p);
}

TEST(WaitSet, ClosedEndAndDetachedProcess) {
  tubo_wait_set* s;
  ASSERT_EQ(tubo_wait_set_new(&s, nullptr), TUBO_OK);
  tubo_end *r, *w;
  Pipe(&r, &w);
  ASSERT_EQ(tubo_end_close(r, nullptr), TUBO_OK);
  Err err;
  EXPECT_EQ(tubo_wait_set_add_end(s, r, 1, &err), TUBO_E_CLOSED);
  tubo_process* p = SpawnSh("exit 0");
  ASSERT_EQ(tubo_process_detach(p, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_wait_set_add_process(s, p, 2, &err), TUBO_E_CLOSED);
  tubo_process_free(p);
  tubo_wait_set_free(s);
  tubo_end_free(r);
  tubo_end_free(w);
}

}  // namespace

int main(int argc, char** argv) {
  if (tubo_entry_register("echo", EchoEntry, nullptr) != TUBO_OK ||
      tubo_entry_register("args", ArgsEntry, nullptr) != TUBO_OK) {
    return 98;
  }
  tubo_run_entry_if_requested(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
