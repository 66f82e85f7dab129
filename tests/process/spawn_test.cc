// The exec and self start methods (Command): what a child sees, what Spawn
// consumes, how it fails, and its options.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/process/helpers.h"
#include "tests/test_util.h"
#include "tubo/error.h"
#include "tubo/pipe.h"
#include "tubo/spawn.h"

namespace tubo {
namespace {

using ::tubo::testing::EchoWorkerPath;
using ::tubo::testing::HasNoChildren;
using ::tubo::testing::ParseChannels;
using ::tubo::testing::ParseFdList;
using ::tubo::testing::ReadAll;
using ::tubo::testing::RunAndCapture;
using ::tubo_test::MakeRawPipe;
using ::tubo_test::MessageHas;
using ::tubo_test::NewDuplex;
using ::tubo_test::NewPipe;
using ::tubo_test::RawPipe;
using ::tubo_test::TempPath;

// Descriptors a careless parent leaves open without close-on-exec: two
// /dev/null opens and a pipe. Closed when the test ends.
class UnrelatedFds {
 public:
  UnrelatedFds() {
    for (int i = 0; i < 2; ++i) fds_.push_back(::open("/dev/null", O_RDONLY));
    int p[2];
    if (::pipe(p) == 0) fds_.insert(fds_.end(), {p[0], p[1]});
    for (int fd : fds_) EXPECT_GE(fd, 0);
  }
  ~UnrelatedFds() {
    for (int fd : fds_) ::close(fd);
  }

 private:
  std::vector<int> fds_;
};

// Receives one message within `timeout`, or fails.
std::optional<std::string> RecvWithin(ReadEnd& end, absl::Duration timeout = absl::Seconds(20)) {
  absl::StatusOr<bool> ready = end.Poll(timeout);
  EXPECT_TRUE(ready.ok() && *ready) << "nothing to receive within " << timeout;
  if (!ready.ok() || !*ready) return std::nullopt;
  absl::StatusOr<std::optional<Bytes>> m = end.Recv();
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok() || !*m) return std::nullopt;
  return (*m)->str();
}

// True if `end` reaches end of stream (after nothing else) within `timeout`.
template <typename End>
::testing::AssertionResult EofWithin(End& end, absl::Duration timeout = absl::Seconds(20)) {
  absl::StatusOr<bool> ready = end.Poll(timeout);
  if (!ready.ok()) return ::testing::AssertionFailure() << ready.status();
  if (!*ready) return ::testing::AssertionFailure() << "no end of stream within " << timeout;
  absl::StatusOr<std::optional<Bytes>> m = end.Recv();
  if (!m.ok()) return ::testing::AssertionFailure() << m.status();
  if (*m) return ::testing::AssertionFailure() << "a message instead: \"" << (*m)->str() << "\"";
  return ::testing::AssertionSuccess();
}

// An exec (not self) of this test binary into the list_fds helper.
Command ExecListFds() {
  Command cmd("/proc/self/exe");
  cmd.Arg("--tubo-entry=list_fds");
  return cmd;
}

// ---------------------------------------------------------------------------
// 1. The descriptors a child sees.

TEST(Spawn, ExecChildSeesOnlyStdioAndChannels) {
  UnrelatedFds unrelated;
  Pipe a = NewPipe();
  Pipe b = NewPipe();
  DuplexPipe c = NewDuplex();
  Command cmd = ExecListFds();
  cmd.Channel("a", std::move(a.reader))
      .Channel("b", std::move(b.writer))
      .Channel("c", std::move(c.first));
  std::string out = RunAndCapture(std::move(cmd));
  EXPECT_EQ(ParseFdList(out), (std::vector<int>{0, 1, 2, 3, 4, 5})) << out;
  EXPECT_EQ(ParseChannels(out), "a:3:r,b:4:w,c:5:rw");
}

TEST(Spawn, SelfChildSeesOnlyStdioAndChannels) {
  UnrelatedFds unrelated;
  Pipe a = NewPipe();
  Pipe b = NewPipe();
  // Given in the other order: the fds follow the order of the calls.
  std::string out = RunAndCapture(std::move(Command::Self("list_fds")
                                                .Channel("second", std::move(b.writer))
                                                .Channel("first", std::move(a.reader))));
  EXPECT_EQ(ParseFdList(out), (std::vector<int>{0, 1, 2, 3, 4})) << out;
  EXPECT_EQ(ParseChannels(out), "second:3:w,first:4:r");
}

TEST(Spawn, ChildWithoutChannelsSeesOnlyStdioAndNoChannelVariable) {
  UnrelatedFds unrelated;
  // A stale description in the parent's environment must not reach the child.
  ASSERT_EQ(::setenv("TUBO_CHANNELS", "stale:3:r", 1), 0);
  std::string out = RunAndCapture(ExecListFds());
  ::unsetenv("TUBO_CHANNELS");
  EXPECT_EQ(ParseFdList(out), (std::vector<int>{0, 1, 2})) << out;
  EXPECT_EQ(ParseChannels(out), "");
}

TEST(Spawn, ChannelsOnLowFdsDoNotClobberEachOther) {
  // Ends whose own numbers are among the targets (3, 4) must still land right.
  Pipe in = NewPipe();
  Pipe out = NewPipe();
  Command cmd = Command::Self("echo");
  // "out" first, so its fd goes to 3 while "in"'s fd may be 3 in the parent.
  cmd.Channel("out", std::move(out.writer)).Channel("in", std::move(in.reader));
  absl::StatusOr<Process> p = cmd.Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(in.writer.Send("ping").ok());
  EXPECT_EQ(RecvWithin(out.reader), "ping");
  ASSERT_TRUE(in.writer.Close().ok());
  EXPECT_TRUE(EofWithin(out.reader));
  absl::StatusOr<ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ToString(), "exited(0)");
}

// ---------------------------------------------------------------------------
// 2. Spawning consumes the ends.

TEST(Spawn, ConsumesChannelEndOnSuccess) {
  Pipe p = NewPipe();
  absl::StatusOr<Process> child =
      Command::Self("exit_with").Arg("0").Channel("out", std::move(p.writer)).Spawn();
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_FALSE(p.writer.is_open());
  // Only the child held the write end: its exit is the end of the stream.
  EXPECT_TRUE(EofWithin(p.reader));
  EXPECT_TRUE(child->Wait().ok());
}

TEST(Spawn, ConsumesChannelEndOnFailure) {
  Pipe p = NewPipe();
  absl::StatusOr<Process> child =
      Command("/nonexistent/tubo-program").Channel("out", std::move(p.writer)).Spawn();
  ASSERT_FALSE(child.ok());
  // End of stream at once: nobody holds a write end any more.
  EXPECT_TRUE(EofWithin(p.reader, absl::ZeroDuration()));
}

TEST(Spawn, ConsumesStdioDescriptorsOnFailure) {
  RawPipe out = MakeRawPipe();
  Pipe in = NewPipe();
  absl::StatusOr<Process> child = Command("/nonexistent/tubo-program")
                                      .Stdout(Stdio::Fd(std::move(out.write)))
                                      .Stdin(Stdio::End(std::move(in.reader)))
                                      .Spawn();
  ASSERT_FALSE(child.ok());
  EXPECT_TRUE(::tubo::testing::SeesEofWithin(out.read.get(), absl::ZeroDuration()));
  // The read end given as stdin is gone too: a send has no reader.
  EXPECT_EQ(ErrorOf(in.writer.Send("x")), Error::kPeerClosed);
}

// ---------------------------------------------------------------------------
// 3. Exec failures are structured errors, and leave no child behind.

// `cmd` is a Command, or the Command& a setter returns.
template <typename Cmd>
void ExpectSpawnError(Cmd&& cmd, const std::vector<std::string>& parts) {
  absl::StatusOr<Process> p = cmd.Spawn();
  ASSERT_FALSE(p.ok()) << "spawned pid " << p->pid();
  EXPECT_EQ(ErrorOf(p.status()), Error::kSpawn) << p.status();
  for (const std::string& part : parts) EXPECT_TRUE(MessageHas(p.status(), part));
  EXPECT_TRUE(HasNoChildren()) << "a failed spawn left a child (or zombie) behind";
}

std::string WriteFile(const std::string& name, const std::string& content, mode_t mode) {
  const std::string path = TempPath(name);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << content;
  }
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

TEST(Spawn, MissingProgramIsAnExecError) {
  ExpectSpawnError(Command("/nonexistent/tubo-program"),
                   {"spawn \"/nonexistent/tubo-program\": exec: No such file or directory"});
}

TEST(Spawn, NonExecutableFileIsPermissionDenied) {
  const std::string path = WriteFile("not_executable", "#!/bin/sh\nexit 0\n", 0644);
  ExpectSpawnError(Command(path), {path, "exec", "Permission denied"});
}

TEST(Spawn, FileThatIsNotAProgramIsExecFormatError) {
  std::string junk;
  for (int i = 0; i < 512; ++i) junk.push_back(static_cast<char>((i * 37 + 11) & 0xff));
  const std::string path = WriteFile("junk_program", junk, 0755);
  ExpectSpawnError(Command(path), {path, "exec", "Exec format error"});
}

TEST(Spawn, MissingWorkingDirectoryIsAChdirError) {
  ExpectSpawnError(Command("/bin/true").WorkingDirectory("/nonexistent/dir"),
                   {"/bin/true", "chdir", "/nonexistent/dir", "No such file or directory"});
}

TEST(Spawn, MissingStdinFileIsAnOpenStdinError) {
  ExpectSpawnError(Command("/bin/true").Stdin(Stdio::Path("/nonexistent/input")),
                   {"/bin/true", "open stdin", "/nonexistent/input", "No such file or directory"});
}

TEST(Spawn, FailureLeavesNoChildBehindEvenAfterManyTries) {
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<Process> p = Command("/nonexistent/tubo-program").Spawn();
    ASSERT_FALSE(p.ok());
  }
  EXPECT_TRUE(HasNoChildren());
}

// ---------------------------------------------------------------------------
// 10. Exec options.

TEST(Command, ArgvIsPassedExactlyWithoutAShell) {
  std::string out = RunAndCapture(std::move(Command("/bin/sh")
                                                .Arg("-c")
                                                .Arg("printf '%s\\n' \"$@\"")
                                                .Arg("sh")
                                                .Arg("two words")
                                                .Arg("$HOME")
                                                .Arg("")
                                                .Arg("*")));
  EXPECT_EQ(out, "two words\n$HOME\n\n*\n");
}

TEST(Command, Argv0CanBeSet) {
  std::string out =
      RunAndCapture(std::move(Command("/bin/sh").Argv0("custom-name").Arg("-c").Arg("echo $0")));
  EXPECT_EQ(out, "custom-name\n");
}

TEST(Command, SearchPathFindsProgramOnPath) {
  absl::StatusOr<Process> p = Command("true").SearchPath().Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->success());
}

TEST(Command, SearchPathUsesTheChildsPath) {
  absl::StatusOr<Process> p = Command("true").SetEnv("PATH", "/nonexistent").SearchPath().Spawn();
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(MessageHas(p.status(), "No such file or directory"));
}

TEST(Command, ABareNameIsLookedUpInPathByDefault) {
  absl::StatusOr<Process> p = Command("true").Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->success());
}

TEST(Command, WithoutSearchPathABareNameIsNotFound) {
  ExpectSpawnError(Command("true").SearchPath(false),
                   {"\"true\"", "exec", "No such file or directory"});
}

TEST(Command, InheritsTheParentsEnvironment) {
  ASSERT_EQ(::setenv("TUBO_TEST_INHERITED", "from parent", 1), 0);
  std::string out = RunAndCapture(std::move(Command::Self("print_env").Arg("TUBO_TEST_INHERITED")));
  ::unsetenv("TUBO_TEST_INHERITED");
  EXPECT_EQ(out, "TUBO_TEST_INHERITED=from parent\n");
}

TEST(Command, ClearEnvStartsEmptyPlusSetEnv) {
  ASSERT_EQ(::setenv("TUBO_TEST_INHERITED", "from parent", 1), 0);
  std::string out = RunAndCapture(std::move(Command::Self("print_env")
                                                .Args({"TUBO_TEST_INHERITED", "PATH", "ADDED"})
                                                .ClearEnv()
                                                .SetEnv("ADDED", "yes")));
  ::unsetenv("TUBO_TEST_INHERITED");
  EXPECT_EQ(out, "TUBO_TEST_INHERITED unset\nPATH unset\nADDED=yes\n");
}

TEST(Command, ClearEnvLeavesOnlyWhatIsSet) {
  std::string out =
      RunAndCapture(std::move(Command("/usr/bin/env").ClearEnv().SetEnv("ONLY", "this")));
  EXPECT_EQ(out, "ONLY=this\n");
}

TEST(Command, SetEnvOverridesAndUnsetEnvRemoves) {
  ASSERT_EQ(::setenv("TUBO_TEST_A", "old", 1), 0);
  ASSERT_EQ(::setenv("TUBO_TEST_B", "present", 1), 0);
  std::string out = RunAndCapture(std::move(Command::Self("print_env")
                                                .Args({"TUBO_TEST_A", "TUBO_TEST_B"})
                                                .SetEnv("TUBO_TEST_A", "new")
                                                .UnsetEnv("TUBO_TEST_B")));
  ::unsetenv("TUBO_TEST_A");
  ::unsetenv("TUBO_TEST_B");
  EXPECT_EQ(out, "TUBO_TEST_A=new\nTUBO_TEST_B unset\n");
}

TEST(Command, InvalidEnvironmentNameFailsSpawn) {
  ExpectSpawnError(Command("/bin/true").SetEnv("A=B", "x"), {"environment variable", "A=B"});
}

TEST(Command, WorkingDirectoryIsTheChildsCwd) {
  char real[PATH_MAX];
  ASSERT_NE(::realpath(TempPath("").c_str(), real), nullptr);
  std::string out = RunAndCapture(std::move(Command::Self("print_cwd").WorkingDirectory(real)));
  EXPECT_EQ(out, absl::StrCat(real, "\n"));
}

TEST(Command, NullStdinAndStderr) {
  std::string out = RunAndCapture(std::move(Command("/bin/sh")
                                                .Stdin(Stdio::Null())
                                                .Stderr(Stdio::Null())
                                                .Arg("-c")
                                                .Arg("readlink /proc/self/fd/0 /proc/self/fd/2; "
                                                     "cat; echo gone >&2")));
  EXPECT_EQ(out, "/dev/null\n/dev/null\n");
}

TEST(Command, NullStdout) {
  RawPipe err = MakeRawPipe();
  absl::StatusOr<Process> p = Command("/bin/sh")
                                  .Stdout(Stdio::Null())
                                  .Stderr(Stdio::Fd(std::move(err.write)))
                                  .Arg("-c")
                                  .Arg("exec 3>&1; readlink /proc/self/fd/3 >&2; echo lost")
                                  .Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(ReadAll(err.read.get()), "/dev/null\n");
  EXPECT_TRUE(p->Wait().ok());
}

TEST(Command, FileStdinStdoutStderr) {
  const std::string in = WriteFile("stdin.txt", "line one\nline two\n", 0644);
  const std::string out = TempPath("stdout.txt");
  const std::string err = TempPath("stderr.txt");
  WriteFile("stdout.txt", "old content that must be truncated away\n", 0644);
  absl::StatusOr<Process> p = Command("/bin/sh")
                                  .Stdin(Stdio::Path(in))
                                  .Stdout(Stdio::Path(out))
                                  .Stderr(Stdio::Path(err))
                                  .Arg("-c")
                                  .Arg("cat; echo to-stderr >&2")
                                  .Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->Wait().ok());
  auto slurp = [](const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(slurp(out), "line one\nline two\n");
  EXPECT_EQ(slurp(err), "to-stderr\n");
}

TEST(Command, FileStdinWorksWhenTheParentsStdinIsClosed) {
  // The file opened in the child then lands on fd 0 itself; it must stay
  // open (and lose close-on-exec) instead of being closed after a no-op dup2.
  const std::string in = WriteFile("stdin_closed.txt", "via fd 0\n", 0644);
  const int saved = ::fcntl(0, F_DUPFD_CLOEXEC, 10);
  ASSERT_GE(saved, 0);
  RawPipe out = MakeRawPipe();  // before closing 0, so it does not take fd 0
  ::close(0);
  absl::StatusOr<Process> p =
      Command("/bin/cat").Stdin(Stdio::Path(in)).Stdout(Stdio::Fd(std::move(out.write))).Spawn();
  std::string text = p.ok() ? ReadAll(out.read.get()) : "";
  std::optional<ExitStatus> st;
  if (p.ok()) st = *p->Wait();
  // Only now, since the pidfd may well have taken the free fd 0.
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(text, "via fd 0\n");
  EXPECT_EQ(st, ExitStatus::Exited(0));
}

TEST(Command, FdStdoutIsConsumedAndUsed) {
  RawPipe out = MakeRawPipe();
  absl::StatusOr<Process> p =
      Command("/bin/echo").Arg("hello").Stdout(Stdio::Fd(std::move(out.write))).Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(out.write.valid());
  EXPECT_EQ(ReadAll(out.read.get()), "hello\n");  // EOF: the parent's copy is closed
  EXPECT_TRUE(p->Wait().ok());
}

TEST(Command, EndStdinAndStdoutCarryFramesThroughCat) {
  Pipe to_cat = NewPipe();
  Pipe from_cat = NewPipe();
  absl::StatusOr<Process> p = Command("/bin/cat")
                                  .Stdin(Stdio::End(std::move(to_cat.reader)))
                                  .Stdout(Stdio::End(std::move(from_cat.writer)))
                                  .Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(to_cat.writer.Send("framed").ok());
  ASSERT_TRUE(to_cat.writer.Send("").ok());
  EXPECT_EQ(RecvWithin(from_cat.reader), "framed");
  EXPECT_EQ(RecvWithin(from_cat.reader), "");
  ASSERT_TRUE(to_cat.writer.Close().ok());
  EXPECT_TRUE(EofWithin(from_cat.reader));
  absl::StatusOr<ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->success());
}

TEST(Command, EchoWorkerExampleEchoesOverChannels) {
  Pipe in = NewPipe();
  Pipe out = NewPipe();
  absl::StatusOr<Process> p = Command(EchoWorkerPath())
                                  .Channel("in", std::move(in.reader))
                                  .Channel("out", std::move(out.writer))
                                  .Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  for (const std::string m : {"one", "", "three"}) {
    ASSERT_TRUE(in.writer.Send(m).ok());
    EXPECT_EQ(RecvWithin(out.reader), m);
  }
  ASSERT_TRUE(in.writer.Close().ok());
  EXPECT_TRUE(EofWithin(out.reader));
  absl::StatusOr<ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ToString(), "exited(0)");
}

// ---------------------------------------------------------------------------
// 11. Self.

TEST(Self, RunsTheEntryWithItsArguments) {
  std::optional<ExitStatus> st;
  std::string out =
      RunAndCapture(std::move(Command::Self("print_args").Args({"x", "y z", "--flag"})), &st);
  EXPECT_EQ(out, "x\ny z\n--flag\n");
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->success());
}

TEST(Self, EntryReturnValueIsTheExitCode) {
  std::optional<ExitStatus> st;
  RunAndCapture(std::move(Command::Self("exit_with").Arg("42")), &st);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(*st, ExitStatus::Exited(42));
}

TEST(Self, UnregisteredEntryFailsSpawn) {
  Pipe p = NewPipe();
  absl::StatusOr<Process> child =
      Command::Self("no_such_entry").Channel("out", std::move(p.writer)).Spawn();
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(ErrorOf(child.status()), Error::kSpawn);
  EXPECT_TRUE(MessageHas(child.status(), "no_such_entry"));
  EXPECT_TRUE(MessageHas(child.status(), "TUBO_ENTRY"));
  EXPECT_TRUE(EofWithin(p.reader, absl::ZeroDuration()));
  EXPECT_TRUE(HasNoChildren());
}

TEST(Self, SimplexChannelsWork) {
  Pipe in = NewPipe();
  Pipe out = NewPipe();
  absl::StatusOr<Process> p = Command::Self("echo")
                                  .Channel("in", std::move(in.reader))
                                  .Channel("out", std::move(out.writer))
                                  .Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(in.writer.Send("hello").ok());
  EXPECT_EQ(RecvWithin(out.reader), "hello");
  ASSERT_TRUE(in.writer.Close().ok());
  EXPECT_TRUE(EofWithin(out.reader));
  EXPECT_EQ(*p->Wait(), ExitStatus::Exited(0));
}

TEST(Self, DuplexChannelWorksWithHalfClose) {
  DuplexPipe d = NewDuplex();
  absl::StatusOr<Process> p = Command::Self("echo").Channel("io", std::move(d.second)).Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(d.first.Send("over").ok());
  ASSERT_TRUE(d.first.Send("and out").ok());
  ASSERT_TRUE(d.first.CloseWrite().ok());  // the worker sees EOF, replies still flow
  for (const char* want : {"over", "and out"}) {
    ASSERT_TRUE(*d.first.Poll(absl::Seconds(20)));
    absl::StatusOr<std::optional<Bytes>> m = d.first.Recv();
    ASSERT_TRUE(m.ok() && *m) << m.status();
    EXPECT_EQ((*m)->str(), want);
  }
  EXPECT_TRUE(EofWithin(d.first));
  EXPECT_EQ(*p->Wait(), ExitStatus::Exited(0));
}

// ---------------------------------------------------------------------------
// 15. Bad channel names.

TEST(Spawn, InvalidChannelNameFailsAndConsumesTheEnds) {
  Pipe good = NewPipe();
  Pipe bad = NewPipe();
  absl::StatusOr<Process> p = Command::Self("exit_with")
                                  .Arg("0")
                                  .Channel("good", std::move(good.writer))
                                  .Channel("bad name", std::move(bad.writer))
                                  .Spawn();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ErrorOf(p.status()), Error::kSpawn);
  EXPECT_TRUE(MessageHas(p.status(), "\"bad name\""));
  EXPECT_TRUE(EofWithin(good.reader, absl::ZeroDuration()));
  EXPECT_TRUE(EofWithin(bad.reader, absl::ZeroDuration()));
  EXPECT_TRUE(HasNoChildren());
}

TEST(Spawn, OverlongChannelNameFails) {
  Pipe p = NewPipe();
  const std::string name(65, 'x');
  absl::StatusOr<Process> child = Command("/bin/true").Channel(name, std::move(p.writer)).Spawn();
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(ErrorOf(child.status()), Error::kSpawn);
  EXPECT_TRUE(MessageHas(child.status(), name));
  EXPECT_TRUE(EofWithin(p.reader, absl::ZeroDuration()));
}

TEST(Spawn, DuplicateChannelNameFailsAndConsumesTheEnds) {
  Pipe first = NewPipe();
  Pipe second = NewPipe();
  absl::StatusOr<Process> p = Command("/bin/true")
                                  .Channel("twice", std::move(first.writer))
                                  .Channel("twice", std::move(second.reader))
                                  .Spawn();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ErrorOf(p.status()), Error::kSpawn);
  EXPECT_TRUE(MessageHas(p.status(), "\"twice\""));
  EXPECT_TRUE(EofWithin(first.reader, absl::ZeroDuration()));
  EXPECT_EQ(ErrorOf(second.writer.Send("x")), Error::kPeerClosed);
  EXPECT_TRUE(HasNoChildren());
}

// ---------------------------------------------------------------------------
// 12. Concurrency: no end leaks into a sibling spawned by another thread.

TEST(Spawn, ConcurrentSpawnsLeakNoEndIntoSiblings) {
  constexpr int kThreads = 8;
  const absl::Time stop = absl::Now() + absl::Seconds(3);
  std::atomic<int> rounds{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (absl::Now() < stop && failures.load() == 0) {
        Pipe to_cat = NewPipe();
        Pipe from_cat = NewPipe();
        absl::StatusOr<Process> p = Command("/bin/cat")
                                        .Stdin(Stdio::End(std::move(to_cat.reader)))
                                        .Stdout(Stdio::End(std::move(from_cat.writer)))
                                        .Spawn();
        if (!p.ok()) {
          ADD_FAILURE() << p.status();
          ++failures;
          return;
        }
        // The echo proves the cat is running while siblings are spawned; then
        // end of stream must follow our close alone. Had our write end leaked
        // into a sibling cat (which waits for its own EOF), this could hang.
        const std::string msg = absl::StrCat("thread ", t, " round ", rounds.load());
        if (!to_cat.writer.Send(msg).ok() || RecvWithin(from_cat.reader) != msg ||
            !to_cat.writer.Close().ok() || !EofWithin(from_cat.reader, absl::Seconds(20))) {
          ADD_FAILURE() << "round failed in thread " << t;
          ++failures;
        }
        absl::StatusOr<std::optional<ExitStatus>> st = p->WaitFor(absl::Seconds(20));
        if (!st.ok() || !*st || !(*st)->success()) {
          ADD_FAILURE() << "cat did not exit cleanly in thread " << t;
          ++failures;
        }
        ++rounds;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(rounds.load(), kThreads);
  EXPECT_TRUE(HasNoChildren());
}

}  // namespace
}  // namespace tubo
