// The exec start method's edges: structured errors for each way exec can
// fail, and standard streams placed right even when the parent lacks them.
#include <errno.h>
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
using tubo_test::TempPath;

// A spawn error whose message has `part` and whose errno (tubo::ErrorErrno)
// is `errno_value`.
void ExpectSpawnError(absl::StatusOr<tubo::Process> p, const std::string& part, int errno_value) {
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(tubo::ErrorOf(p.status()), tubo::Error::kSpawn) << p.status();
  EXPECT_EQ(tubo::ErrorErrno(p.status()), errno_value) << p.status();
  EXPECT_NE(std::string(p.status().message()).find(part), std::string::npos)
      << p.status() << " lacks " << part;
}

TEST(SpawnErrors, MissingProgram) {
  ExpectSpawnError(tubo::Command("/nonexistent/tubo-no-such-program").Spawn(),
                   "spawn \"/nonexistent/tubo-no-such-program\": exec: No such file or directory",
                   ENOENT);
}

TEST(SpawnErrors, NotExecutable) {
  const std::string path = TempPath("not_executable");
  std::ofstream(path) << "#!/bin/sh\nexit 0\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  // root may execute a file only if some execute bit is set, so this holds for root too.
  ExpectSpawnError(tubo::Command(path).Spawn(), "exec: Permission denied", EACCES);
}

TEST(SpawnErrors, NotAProgram) {
  const std::string path = TempPath("not_a_program");
  std::ofstream(path) << "\x01\x02\x03 garbage, no #! line, no ELF header\n";
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  ExpectSpawnError(tubo::Command(path).Spawn(), "exec: Exec format error", ENOEXEC);
}

TEST(SpawnErrors, MissingWorkingDirectory) {
  ExpectSpawnError(tubo::Command("/bin/true").WorkingDirectory("/nonexistent/tubo-dir").Spawn(),
                   "chdir \"/nonexistent/tubo-dir\": No such file or directory", ENOENT);
}

TEST(SpawnErrors, MissingStdinFile) {
  ExpectSpawnError(tubo::Command("/bin/true").Stdin(tubo::Stdio::Path("/nonexistent/in")).Spawn(),
                   "open stdin \"/nonexistent/in\"", ENOENT);
}

// Regression: with the parent's fd 0 closed, opening /dev/null for the
// child's stdin returned 0 itself; the descriptor kept close-on-exec and the
// program started without a stdin.
TEST(SpawnStdio, NullStdinWhenTheParentHasNoFd0) {
  pid_t pid = ForkChild([] {
    ::close(0);
    absl::StatusOr<tubo::Process> p = tubo::Command("/bin/sh")
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

}  // namespace
