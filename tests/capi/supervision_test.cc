// Supervision through the C ABI (capi/tubo.h only, over libtubo.so.1).
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "tests/process/seccomp.h"
#include "tubo.h"

namespace {

tubo_process* SpawnSh(const char* script, bool group) {
  tubo_command* c = nullptr;
  EXPECT_EQ(tubo_command_new(&c, "/bin/sh", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_command_arg(c, "-c", nullptr), TUBO_OK);
  EXPECT_EQ(tubo_command_arg(c, script, nullptr), TUBO_OK);
  EXPECT_EQ(tubo_command_new_process_group(c, group ? 1 : 0, nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  EXPECT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);
  return p;
}

TEST(CSupervision, NullArguments) {
  tubo_error* err = nullptr;
  EXPECT_EQ(tubo_command_die_with_parent(nullptr, 1, &err), TUBO_E_INVALID_ARGUMENT);
  tubo_error_free(err);
  EXPECT_EQ(tubo_command_new_process_group(nullptr, 1, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_process_signal_group(nullptr, SIGTERM, nullptr), TUBO_E_INVALID_ARGUMENT);
  EXPECT_EQ(tubo_process_leads_group(nullptr), 0);
}

TEST(CSupervision, SignalGroupNeedsALeader) {
  tubo_process* p = SpawnSh("sleep 100", false);
  EXPECT_EQ(tubo_process_leads_group(p), 0);
  tubo_error* err = nullptr;
  EXPECT_EQ(tubo_process_signal_group(p, SIGTERM, &err), TUBO_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tubo_error_message(err)).find("new_process_group"), std::string::npos);
  tubo_error_free(err);
  EXPECT_EQ(tubo_process_kill(p, nullptr), TUBO_OK);
  tubo_process_free(p);
}

TEST(CSupervision, SignalGroupStopsTheTree) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  tubo_command* c = nullptr;
  ASSERT_EQ(tubo_command_new(&c, "/bin/sh", nullptr), TUBO_OK);
  tubo_command_arg(c, "-c", nullptr);
  tubo_command_arg(c, "sleep 100 & sleep 100 & echo started; wait", nullptr);
  tubo_command_new_process_group(c, 1, nullptr);
  ASSERT_EQ(tubo_command_stdio_fd(c, TUBO_STDOUT, fds[1], nullptr), TUBO_OK);
  tubo_process* p = nullptr;
  ASSERT_EQ(tubo_command_spawn(&p, c, nullptr), TUBO_OK);
  tubo_command_free(c);
  EXPECT_EQ(tubo_process_leads_group(p), 1);
  char buf[64];
  ASSERT_GT(read(fds[0], buf, sizeof(buf)), 0);  // "started"
  ASSERT_EQ(tubo_process_signal_group(p, SIGKILL, nullptr), TUBO_OK);
  int code = 0;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, -SIGKILL);
  struct pollfd pfd = {fds[0], POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10000), 1);
  EXPECT_EQ(read(fds[0], buf, sizeof(buf)), 0);  // EOF: the grandchildren are gone
  tubo_error* err = nullptr;
  EXPECT_EQ(tubo_process_signal_group(p, SIGKILL, &err), TUBO_E_CLOSED);
  tubo_error_free(err);
  tubo_process_free(p);
  close(fds[0]);
}

int Pause(void*, tubo_end**, size_t) {
  pause();
  return 0;
}

TEST(CSupervision, ForkFlags) {
  tubo_process* p = nullptr;
  tubo_error* err = nullptr;
  EXPECT_EQ(tubo_fork(&p, Pause, nullptr, nullptr, 0, 64u, &err), TUBO_E_INVALID_ARGUMENT);
  tubo_error_free(err);
  ASSERT_EQ(
      tubo_fork(&p, Pause, nullptr, nullptr, 0,
                TUBO_FORK_ALLOW_THREADS | TUBO_FORK_NEW_PROCESS_GROUP | TUBO_FORK_OUTLIVE_PARENT,
                nullptr),
      TUBO_OK);
  EXPECT_EQ(tubo_process_leads_group(p), 1);
  EXPECT_EQ(getpgid(tubo_process_pid(p)), tubo_process_pid(p));
  EXPECT_EQ(tubo_process_signal_group(p, SIGKILL, nullptr), TUBO_OK);
  int code = 0;
  ASSERT_EQ(tubo_process_wait(&code, p, nullptr), TUBO_OK);
  EXPECT_EQ(code, -SIGKILL);
  tubo_process_free(p);
}

TEST(CSupervision, DieWithParentIsTheDefault) {
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  pid_t middle = fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    tubo_process* p = SpawnSh("sleep 100", false);
    const int pid = tubo_process_pid(p);
    if (write(report[1], &pid, sizeof(pid)) != sizeof(pid)) _exit(2);
    for (;;) pause();
  }
  close(report[1]);
  int worker = 0;
  ASSERT_EQ(read(report[0], &worker, sizeof(worker)), static_cast<ssize_t>(sizeof(worker)));
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, worker, 0));
  ASSERT_GE(pidfd, 0);
  kill(middle, SIGKILL);
  waitpid(middle, nullptr, 0);
  struct pollfd pfd = {pidfd, POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 10000), 1) << "the worker outlived its SIGKILLed parent";
  close(pidfd);
  close(report[0]);
}

TEST(CSupervision, DetachWithoutAThreadKeepsTheChild) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    tubo_process* p = SpawnSh("sleep 100", false);
    const int child = tubo_process_pid(p);
    if (!tubo::testing::DenySyscalls({{SYS_clone3, ENOSYS}, {SYS_clone, EAGAIN, CLONE_THREAD}})) {
      _exit(2);
    }
    tubo_error* err = nullptr;
    if (tubo_process_detach(p, &err) != TUBO_E_SYSTEM) _exit(3);
    if (std::strstr(tubo_error_message(err), "reaper thread") == nullptr) _exit(4);
    tubo_error_free(err);
    if (tubo_process_pid(p) != child) _exit(5);
    if (tubo_process_kill(p, nullptr) != TUBO_OK) _exit(6);
    int code = 0;
    if (tubo_process_wait(&code, p, nullptr) != TUBO_OK || code != -SIGKILL) _exit(7);
    tubo_process_free(p);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
