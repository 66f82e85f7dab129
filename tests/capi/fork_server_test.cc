// The fork server start method through the C ABI (tubo_fork_server.h), with
// real processes: channels both ways, exit status, ownership (the worker's
// parent is this process), a killed server replaced, errors named. The test
// binary is also its own server and worker: main dispatches self entries.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/capi/capi_error.h"
#include "tubo.h"

namespace {

using tubo_capi_test::Err;

// Self entry: echoes messages from channel "in" to "out" until end of
// stream, then sends its parent's pid.
int EchoEntry(int, char**) {
  tubo_end *in = nullptr, *out = nullptr;
  if (tubo_channel_take_read_end(&in, "in", nullptr) != TUBO_OK ||
      tubo_channel_take_write_end(&out, "out", nullptr) != TUBO_OK) {
    return 3;
  }
  for (;;) {
    tubo_bytes* m = nullptr;
    const int rc = tubo_end_recv(&m, in, nullptr);
    if (rc == TUBO_EOF) break;
    if (rc != TUBO_OK) return 4;
    const int sent = tubo_end_send(out, m->data, m->len, nullptr);
    tubo_bytes_free(m);
    if (sent != TUBO_OK) return 5;
  }
  const std::string ppid = std::to_string(getppid());
  if (tubo_end_send(out, ppid.data(), ppid.size(), nullptr) != TUBO_OK) return 6;
  tubo_end_free(in);
  tubo_end_free(out);
  return 0;
}

// Self entry: exits with the number of its arguments plus 10.
int ArgsEntry(int argc, char**) { return 10 + argc - 1; }

// Self entry: pauses until killed.
int SleepEntry(int, char**) {
  for (;;) pause();
}

std::string Recv(tubo_end* end) {
  tubo_bytes* m = nullptr;
  Err err;
  EXPECT_EQ(tubo_end_recv(&m, end, &err), TUBO_OK) << err.msg();
  if (m == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(m->data), m->len);
  tubo_bytes_free(m);
  return s;
}

tubo_command* SelfCommand(const char* entry) {
  tubo_command* cmd = nullptr;
  EXPECT_EQ(tubo_command_new_self(&cmd, entry, nullptr), TUBO_OK);
  return cmd;
}

TEST(ForkServer, EchoesBothWaysAndIsOwnedByThisProcess) {
  tubo_fork_server* server = nullptr;
  Err err;
  ASSERT_EQ(tubo_fork_server_new(&server, &err), TUBO_OK) << err.msg();
  EXPECT_GT(tubo_fork_server_pid(server), 0);
  tubo_end *to_r, *to_w, *from_r, *from_w;
  ASSERT_EQ(tubo_pipe_new(&to_r, &to_w, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_pipe_new(&from_r, &from_w, nullptr), TUBO_OK);
  tubo_command* cmd = SelfCommand("echo");
  ASSERT_EQ(tubo_command_channel(cmd, "in", to_r, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_channel(cmd, "out", from_w, nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  ASSERT_EQ(tubo_fork_server_spawn(&p, server, cmd, &err), TUBO_OK) << err.msg();
  tubo_command_free(cmd);
  EXPECT_NE(tubo_process_pid(p), tubo_fork_server_pid(server));
  ASSERT_EQ(tubo_end_send(to_w, "hello", 5, nullptr), TUBO_OK);
  EXPECT_EQ(Recv(from_r), "hello");
  tubo_end_free(to_w);  // end of stream for the worker
  EXPECT_EQ(Recv(from_r), std::to_string(getpid()));
  int code = -1;
  ASSERT_EQ(tubo_process_wait(&code, p, &err), TUBO_OK) << err.msg();
  EXPECT_EQ(code, 0);
  tubo_process_free(p);
  tubo_end_free(from_r);
  tubo_fork_server_free(server);
}

TEST(ForkServer, ExitCodeSignalAndRestartAfterTheServerIsKilled) {
  tubo_fork_server* server = nullptr;
  ASSERT_EQ(tubo_fork_server_new(&server, nullptr), TUBO_OK);
  tubo_command* cmd = SelfCommand("args");
  ASSERT_EQ(tubo_command_arg(cmd, "a", nullptr), TUBO_OK);
  ASSERT_EQ(tubo_command_arg(cmd, "b", nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  Err err;
  ASSERT_EQ(tubo_fork_server_spawn(&p, server, cmd, &err), TUBO_OK) << err.msg();
  int code = -1;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, 12);
  tubo_process_free(p);

  const int old = tubo_fork_server_pid(server);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, old, 0));
  ASSERT_GE(pidfd, 0);
  ASSERT_EQ(kill(old, SIGKILL), 0);
  struct pollfd pfd = {pidfd, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10000), 1);
  close(pidfd);
  tubo_command* sleeper = SelfCommand("sleep");
  ASSERT_EQ(tubo_fork_server_spawn(&p, server, sleeper, &err), TUBO_OK) << err.msg();
  tubo_command_free(sleeper);
  EXPECT_NE(tubo_fork_server_pid(server), old);
  ASSERT_EQ(tubo_process_kill(p, nullptr), TUBO_OK);
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, -SIGKILL);
  EXPECT_EQ(tubo_process_term_signal(p), SIGKILL);
  tubo_process_free(p);
  tubo_command_free(cmd);
  tubo_fork_server_free(server);
}

TEST(ForkServer, ErrorsAreNamed) {
  tubo_fork_server* server = nullptr;
  ASSERT_EQ(tubo_fork_server_new(&server, nullptr), TUBO_OK);
  Err err;
  tubo_process* p = nullptr;
  tubo_command* exec = nullptr;
  ASSERT_EQ(tubo_command_new(&exec, "/bin/true", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_fork_server_spawn(&p, server, exec, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.msg().find("tubo_command_new_self"), std::string::npos) << err.msg();
  tubo_command_free(exec);
  tubo_command* cmd = SelfCommand("args");
  ASSERT_EQ(tubo_command_working_directory(cmd, "/no/such/dir", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_fork_server_spawn(&p, server, cmd, &err), TUBO_E_SPAWN);
  EXPECT_NE(err.msg().find("chdir"), std::string::npos) << err.msg();
  EXPECT_EQ(tubo_error_errno(err.e), ENOENT);
  tubo_command_free(cmd);
  EXPECT_EQ(tubo_fork_server_spawn(&p, nullptr, nullptr, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_fork_server_pid(nullptr), -1);
  tubo_fork_server_free(server);
  tubo_fork_server_free(nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (tubo_entry_register("echo", EchoEntry, nullptr) != TUBO_OK ||
      tubo_entry_register("args", ArgsEntry, nullptr) != TUBO_OK ||
      tubo_entry_register("sleep", SleepEntry, nullptr) != TUBO_OK) {
    return 98;
  }
  tubo_run_entry_if_requested(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
