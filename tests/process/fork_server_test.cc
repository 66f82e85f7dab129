// The fork server start method: real workers forked by a real server, owned
// by this process; a killed server replaced; supervision; no leaks.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/process/helpers.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

// Sends its parent's pid on channel "out".
TUBO_ENTRY(send_ppid) {
  absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
  if (!out.ok()) return 100;
  return out->Send(absl::StrCat(::getppid())).ok() ? 0 : 101;
}

// Sends "ready" on channel "out", then pauses until killed.
TUBO_ENTRY(ready_then_sleep) {
  absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
  if (!out.ok() || !out->Send("ready").ok()) return 100;
  for (;;) ::pause();
}

namespace {

using tubo::Command;
using tubo::ForkServer;

// A pidfd for any process (not only a child), to watch it end.
int PidfdOf(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool EndsWithin(int pidfd, absl::Duration timeout) {
  struct pollfd p = {pidfd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1;
}

// Runs `cmd` through `server` with stdout captured; returns the output.
std::string Capture(ForkServer& server, Command& cmd, std::optional<tubo::ExitStatus>* status) {
  tubo::Pipe out = tubo_test::NewPipe();
  absl::StatusOr<tubo::Process> p =
      server.Spawn(cmd.Stdout(tubo::Stdio::End(std::move(out.writer))));
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return "";
  absl::StatusOr<tubo::OwnedFd> fd = out.reader.Release();
  EXPECT_TRUE(fd.ok());
  std::string text = tubo::testing::ReadAll(fd->get());
  absl::StatusOr<tubo::ExitStatus> st = p->Wait();
  EXPECT_TRUE(st.ok()) << st.status();
  if (status != nullptr && st.ok()) *status = *st;
  return text;
}

TEST(ForkServer, EchoesOverChannelsBothWays) {
  absl::StatusOr<ForkServer> server = ForkServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT(server->server_pid(), 0);
  tubo::Pipe to = tubo_test::NewPipe();
  tubo::Pipe from = tubo_test::NewPipe();
  absl::StatusOr<tubo::Process> p = server->Spawn(Command::Self("echo")
                                                      .Channel("in", std::move(to.reader))
                                                      .Channel("out", std::move(from.writer)));
  ASSERT_TRUE(p.ok()) << p.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(to.writer.Send(absl::StrCat("message ", i)).ok());
    tubo_test::ExpectMessage(from.reader.Recv(), absl::StrCat("message ", i));
  }
  ASSERT_TRUE(to.writer.Close().ok());
  tubo_test::ExpectEof(from.reader.Recv());
  absl::StatusOr<tubo::ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->ToString(), "exited(0)");
}

TEST(ForkServer, ReportsExitCodeAndSignal) {
  ForkServer server;  // started by the first Spawn
  absl::StatusOr<tubo::Process> p = server.Spawn(Command::Self("exit_with").Arg("7"));
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<tubo::ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->ToString(), "exited(7)");

  absl::StatusOr<tubo::Process> q = server.Spawn(Command::Self("sleep_forever"));
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_TRUE(q->Kill().ok());
  st = q->Wait();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->ToString(), "signaled(9)");
}

TEST(ForkServer, TheWorkerIsThisProcesssChild) {
  ForkServer server;
  tubo::Pipe from = tubo_test::NewPipe();
  absl::StatusOr<tubo::Process> p =
      server.Spawn(Command::Self("send_ppid").Channel("out", std::move(from.writer)));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_NE(p->pid(), server.server_pid());
  tubo_test::ExpectMessage(from.reader.Recv(), absl::StrCat(::getpid()));
  // The pidfd reports the exit, and the status comes from this process's wait.
  EXPECT_TRUE(EndsWithin(p->pidfd().get(), absl::Seconds(10)));
  absl::StatusOr<tubo::ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(st->success()) << st->ToString();
  // Reaped: no zombie left behind.
  siginfo_t info = {};
  EXPECT_EQ(::waitid(P_PID, static_cast<id_t>(p->pid()), &info, WEXITED | WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_TRUE(tubo::testing::GoneWithin(p->pid(), absl::Seconds(5)));
}

TEST(ForkServer, WorkerSeesOnlyItsStreamsAndChannels) {
  ForkServer server;
  tubo::Pipe extra = tubo_test::NewPipe();  // open here, must not reach the worker
  std::optional<tubo::ExitStatus> st;
  tubo::Pipe ch = tubo_test::NewPipe();
  std::string out =
      Capture(server, Command::Self("list_fds").Channel("data", std::move(ch.reader)), &st);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->success()) << st->ToString();
  EXPECT_EQ(tubo::testing::ParseFdList(out), (std::vector<int>{0, 1, 2, 3})) << out;
  EXPECT_EQ(tubo::testing::ParseChannels(out), "data:3:r") << out;
}

TEST(ForkServer, AppliesEnvironmentAndWorkingDirectory) {
  ForkServer server;
  std::optional<tubo::ExitStatus> st;
  std::string out = Capture(server,
                            Command::Self("print_env")
                                .Args({"TUBO_FS_SET", "HOME"})
                                .SetEnv("TUBO_FS_SET", "yes")
                                .UnsetEnv("HOME"),
                            &st);
  EXPECT_EQ(out, "TUBO_FS_SET=yes\nHOME unset\n");
  out = Capture(server, Command::Self("print_cwd").WorkingDirectory("/"), &st);
  EXPECT_EQ(out, "/\n");
  out = Capture(server, Command::Self("print_args").Args({"a b", "", "c"}), &st);
  EXPECT_EQ(out, "a b\n\nc\n");
}

TEST(ForkServer, ErrorsNameTheProblem) {
  ForkServer server;
  absl::StatusOr<tubo::Process> p = server.Spawn(Command("/bin/true"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kInvalidArgument) << p.status();
  EXPECT_TRUE(tubo_test::MessageHas(p.status(), "Command::Self"));

  p = server.Spawn(Command::Self("no_such_entry"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kSpawn) << p.status();
  EXPECT_TRUE(tubo_test::MessageHas(p.status(), "no entry point"));

  // A stage that fails in the worker: reported, and the worker reaped.
  p = server.Spawn(Command::Self("exit_with").Arg("0").WorkingDirectory("/no/such/dir"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kSpawn) << p.status();
  EXPECT_TRUE(tubo_test::MessageHas(p.status(), "chdir"));
  EXPECT_EQ(tubo::ErrorErrno(p.status()), ENOENT) << p.status();

  // The server still serves.
  p = server.Spawn(Command::Self("exit_with").Arg("3"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Wait()->exit_code(), 3);
}

TEST(ForkServer, AKilledServerIsReplacedByTheNextSpawn) {
  ForkServer server;
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<tubo::Process> p = server.Spawn(Command::Self("exit_with").Arg("5"));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->Wait()->exit_code(), 5);
    const pid_t old = server.server_pid();
    ASSERT_GT(old, 0);
    const int pidfd = PidfdOf(old);
    ASSERT_GE(pidfd, 0);
    ASSERT_EQ(::kill(old, SIGKILL), 0);
    EXPECT_TRUE(EndsWithin(pidfd, absl::Seconds(10)));
    ::close(pidfd);
    p = server.Spawn(Command::Self("exit_with").Arg("6"));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->Wait()->exit_code(), 6);
    EXPECT_NE(server.server_pid(), old);
    EXPECT_GT(server.server_pid(), 0);
  }
}

// A server killed at any moment, also in the middle of a request: every
// Spawn returns (a worker, or an error naming the server), none hangs, and
// every worker started is owned and reaped.
TEST(ForkServer, KillingTheServerAtAnyMomentNeverHangsASpawn) {
  ASSERT_TRUE(tubo::testing::HasNoChildren());
  auto owned = std::make_unique<ForkServer>();
  ForkServer& server = *owned;
  std::atomic<bool> done{false};
  std::thread killer([&] {
    while (!done.load()) {
      const pid_t pid = server.server_pid();
      if (pid > 0) ::kill(pid, SIGKILL);
      absl::SleepFor(absl::Microseconds(700));
    }
  });
  int started = 0, failed = 0;
  std::string first_error;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (int i = 0; i < 300 && absl::Now() < deadline; ++i) {
    absl::StatusOr<tubo::Process> p = server.Spawn(Command::Self("exit_with").Arg("4"));
    if (p.ok()) {
      absl::StatusOr<tubo::ExitStatus> st = p->Wait();
      ASSERT_TRUE(st.ok()) << st.status();
      // A worker may be killed by nobody: it exits 4.
      EXPECT_EQ(st->ToString(), "exited(4)");
      ++started;
    } else {
      EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kSpawn) << p.status();
      EXPECT_TRUE(tubo_test::MessageHas(p.status(), "fork server")) << p.status();
      if (failed++ == 0) first_error = p.status().ToString();
    }
  }
  done = true;
  killer.join();
  std::printf("%d started, %d failed with the server killed every 0.7 ms (first: %s)\n", started,
              failed, first_error.c_str());
  EXPECT_GT(started, 0);
  // Once the killing stops, the next spawn works.
  absl::StatusOr<tubo::Process> p = server.Spawn(Command::Self("exit_with").Arg("0"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->Wait()->success());
  owned.reset();
  EXPECT_TRUE(tubo::testing::HasNoChildren()) << "a worker was left without an owner";
}

TEST(ForkServer, SpawnsFromManyThreadsInABigParent) {
  // A parent with a big heap and many threads: the server does not care.
  std::vector<char> heap(256 << 20, 1);
  std::atomic<bool> stop{false};
  std::vector<std::thread> idle;
  for (int i = 0; i < 16; ++i) {
    idle.emplace_back([&stop] {
      while (!stop.load()) absl::SleepFor(absl::Milliseconds(5));
    });
  }
  ForkServer server;
  std::atomic<int> ok{0};
  std::vector<std::thread> spawners;
  for (int t = 0; t < 4; ++t) {
    spawners.emplace_back([&server, &ok, t] {
      for (int i = 0; i < 10; ++i) {
        absl::StatusOr<tubo::Process> p =
            server.Spawn(Command::Self("exit_with").Arg(absl::StrCat(t * 10 + i)));
        if (!p.ok()) continue;
        absl::StatusOr<tubo::ExitStatus> st = p->Wait();
        if (st.ok() && st->exit_code() == t * 10 + i) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& t : spawners) t.join();
  stop = true;
  for (std::thread& t : idle) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(heap[12345], 1);
}

TEST(ForkServer, LeaksNoDescriptor) {
  const std::vector<int> before = tubo::testing::OpenFds();
  {
    ForkServer server;
    for (int i = 0; i < 5; ++i) {
      tubo::Pipe to = tubo_test::NewPipe();
      tubo::Pipe from = tubo_test::NewPipe();
      absl::StatusOr<tubo::Process> p = server.Spawn(Command::Self("echo")
                                                         .Channel("in", std::move(to.reader))
                                                         .Channel("out", std::move(from.writer)));
      ASSERT_TRUE(p.ok()) << p.status();
      ASSERT_TRUE(to.writer.Send("x").ok());
      tubo_test::ExpectMessage(from.reader.Recv(), "x");
      ASSERT_TRUE(to.writer.Close().ok());
      ASSERT_TRUE(p->Wait().ok());
    }
    absl::StatusOr<tubo::Process> bad = server.Spawn(
        Command::Self("exit_with").Arg("0").Stdout(tubo::Stdio::Path("/no/such/dir/file")));
    ASSERT_FALSE(bad.ok());
    EXPECT_TRUE(tubo_test::MessageHas(bad.status(), "open stdout")) << bad.status();
  }
  EXPECT_EQ(tubo::testing::OpenFds(), before);
  EXPECT_TRUE(tubo::testing::HasNoChildren());
}

TEST(ForkServer, ServerAndWorkersDieWithASigkilledParent) {
  tubo_test::RawPipe report = tubo_test::MakeRawPipe();
  const pid_t middle = tubo_test::ForkChild([&] {
    report.read.Reset();
    ForkServer server;
    tubo::Pipe ready = tubo_test::NewPipe();
    absl::StatusOr<tubo::Process> w =
        server.Spawn(Command::Self("ready_then_sleep").Channel("out", std::move(ready.writer)));
    CHILD_CHECK(w.ok(), 2);
    absl::StatusOr<std::optional<tubo::Bytes>> m = ready.reader.Recv();
    CHILD_CHECK(m.ok() && m->has_value(), 3);
    const std::string line = absl::StrCat(server.server_pid(), " ", w->pid(), "\n");
    CHILD_CHECK(tubo_test::WriteRaw(report.write.get(), line), 4);
    for (;;) ::pause();  // killed by the test
  });
  report.write.Reset();
  std::string line;
  char c;
  while (::read(report.read.get(), &c, 1) == 1 && c != '\n') line.push_back(c);
  std::istringstream in(line);
  pid_t server_pid = -1, worker_pid = -1;
  in >> server_pid >> worker_pid;
  ASSERT_GT(server_pid, 0) << "middle said: " << line;
  ASSERT_GT(worker_pid, 0) << "middle said: " << line;
  const int server_fd = PidfdOf(server_pid);
  const int worker_fd = PidfdOf(worker_pid);
  ASSERT_GE(server_fd, 0);
  ASSERT_GE(worker_fd, 0);
  ::kill(middle, SIGKILL);
  tubo_test::WaitStatus(middle);
  EXPECT_TRUE(EndsWithin(server_fd, absl::Seconds(10))) << "the server outlived its parent";
  EXPECT_TRUE(EndsWithin(worker_fd, absl::Seconds(10))) << "the worker outlived its parent";
  ::close(server_fd);
  ::close(worker_fd);
}

}  // namespace
