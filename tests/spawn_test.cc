// The exec start method's edges: structured errors for each way exec can
// fail, and standard streams placed right even when the parent lacks them.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/tubo.h"

namespace {

using tubo_test::ForkChild;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void ExpectSpawnError(absl::StatusOr<tubo::Process> p, const std::string& part) {
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kSpawn) << p.status();
  EXPECT_NE(std::string(p.status().message()).find(part), std::string::npos)
      << p.status() << " lacks " << part;
}

TEST(SpawnErrors, MissingProgram) {
  ExpectSpawnError(tubo::Command("/nonexistent/tubo-no-such-program").Spawn(),
                   "spawn \"/nonexistent/tubo-no-such-program\": exec: No such file or directory");
}

TEST(SpawnErrors, NotExecutable) {
  const std::string path = TempPath("not_executable");
  std::ofstream(path) << "#!/bin/sh\nexit 0\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  // root may execute a file only if some execute bit is set, so this holds for root too.
  ExpectSpawnError(tubo::Command(path).Spawn(), "exec: Permission denied");
}

TEST(SpawnErrors, NotAProgram) {
  const std::string path = TempPath("not_a_program");
  std::ofstream(path) << "\x01\x02\x03 garbage, no #! line, no ELF header\n";
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  ExpectSpawnError(tubo::Command(path).Spawn(), "exec: Exec format error");
}

TEST(SpawnErrors, MissingWorkingDirectory) {
  ExpectSpawnError(tubo::Command("/bin/true").WorkingDirectory("/nonexistent/tubo-dir").Spawn(),
                   "chdir \"/nonexistent/tubo-dir\": No such file or directory");
}

TEST(SpawnErrors, MissingStdinFile) {
  ExpectSpawnError(tubo::Command("/bin/true").Stdin(tubo::Stdio::File("/nonexistent/in")).Spawn(),
                   "open stdin \"/nonexistent/in\"");
}

// Regression: with the parent's fd 0 closed, opening /dev/null for the
// child's stdin returned 0 itself; the descriptor kept close-on-exec and the
// program started without a stdin.
TEST(SpawnStdio, NullStdinWhenTheParentHasNoFd0) {
  pid_t pid = ForkChild([] {
    ::close(0);
    absl::StatusOr<tubo::Process> p =
        tubo::Command("/bin/sh")
            .Arg("-c")
            .Arg("[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ]")
            .Stdin(tubo::Stdio::Null())
            .Spawn();
    CHILD_CHECK(p.ok(), 2);
    absl::StatusOr<tubo::ExitStatus> st = p->Wait();
    CHILD_CHECK(st.ok(), 3);
    CHILD_CHECK(st->success(), 4);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

// Where pidfd_open(2) is missing (old kernels and seccomp profiles, valgrind
// up to 3.19), Fork creates the child with clone(CLONE_PIDFD): the child runs
// the callable with its ends, and the handle waits, signals and reaps as ever.
TEST(ForkWithoutPidfdOpen, ChildRunsAndIsReaped) {
  pid_t pid = ForkChild([] {
    tubo::internal::DisablePidfdOpenForTesting();
    absl::StatusOr<tubo::Pipe> p = tubo::Pipe::Create();
    CHILD_CHECK(p.ok(), 2);
    // allow_threads: ThreadSanitizer runs a thread of its own in a forked child.
    tubo::ForkOptions options;
    options.allow_threads = true;
    absl::StatusOr<tubo::Process> child = tubo::Fork(
        options, [](tubo::WriteEnd out) { return out.Send("from the clone child").ok() ? 7 : 1; },
        std::move(p->writer));
    CHILD_CHECK(child.ok(), 3);
    CHILD_CHECK(child->pidfd().valid(), 4);
    absl::StatusOr<std::optional<tubo::Bytes>> m = p->reader.Recv();
    CHILD_CHECK(m.ok() && m->has_value() && (*m)->view() == "from the clone child", 5);
    m = p->reader.Recv();
    CHILD_CHECK(m.ok() && !m->has_value(), 6);  // EOF: the parent kept no copy
    absl::StatusOr<tubo::ExitStatus> st = child->Wait();
    CHILD_CHECK(st.ok() && st->exited() && st->code() == 7, 7);
    // A stopped one is killed and reaped by the stop sequence.
    absl::StatusOr<tubo::Process> sleeper = tubo::Fork(options, [] { ::pause(); });
    CHILD_CHECK(sleeper.ok(), 8);
    sleeper->set_stop_sequence(tubo::StopSequence::KillNow());
    absl::StatusOr<tubo::ExitStatus> killed = sleeper->Stop();
    CHILD_CHECK(killed.ok() && killed->signaled() && killed->signal() == SIGKILL, 9);
    return 0;
  });
  EXPECT_CHILD_OK(pid);
}

}  // namespace
