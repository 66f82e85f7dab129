// Contract 2, worker side: parsing TUBO_CHANNELS and taking channels by name.
#include "tubo/channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tubo/error.h"

namespace tubo {
namespace {

using ::tubo_test::IsCloexec;
using ::tubo_test::IsOpen;
using ::tubo_test::MessageHas;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

void ExpectParseError(const std::string& value, const std::string& substring) {
  absl::StatusOr<std::vector<ChannelSpec>> specs = ParseChannelSpec(value);
  ASSERT_FALSE(specs.ok()) << "accepted \"" << value << "\"";
  EXPECT_EQ(ErrorOf(specs.status()), Error::kChannel) << specs.status();
  EXPECT_TRUE(MessageHas(specs.status(), substring)) << "for \"" << value << "\"";
}

// Two raw descriptors, as a spawner would leave them in a worker: not
// close-on-exec. Closes whichever the test did not hand over.
struct RawPair {
  int fds[2] = {-1, -1};
  ~RawPair() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  // The descriptor, now owned by whoever takes the channel.
  int Give(int i) {
    const int fd = fds[i];
    fds[i] = -1;
    return fd;
  }
};

void MakePipe(RawPair& pair) {
  ASSERT_EQ(::pipe2(pair.fds, 0), 0);
  ASSERT_GE(pair.fds[0], 3);
  ASSERT_GE(pair.fds[1], 3);
}

void MakeSocketPair(RawPair& pair) {
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair.fds), 0);
  ASSERT_GE(pair.fds[0], 3);
  ASSERT_GE(pair.fds[1], 3);
}

void SetChannels(const std::string& value) {
  ASSERT_EQ(::setenv(kChannelsEnvVar, value.c_str(), 1), 0);
}

// Parsing

TEST(ParseChannelSpec, EmptyStringIsEmptyList) {
  absl::StatusOr<std::vector<ChannelSpec>> specs = ParseChannelSpec("");
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_TRUE(specs->empty());
}

TEST(ParseChannelSpec, OneEntry) {
  absl::StatusOr<std::vector<ChannelSpec>> specs = ParseChannelSpec("jobs:3:r");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 1u);
  EXPECT_EQ((*specs)[0].name, "jobs");
  EXPECT_EQ((*specs)[0].fd, 3);
  EXPECT_EQ((*specs)[0].mode, "r");
}

TEST(ParseChannelSpec, SeveralEntriesInOrder) {
  absl::StatusOr<std::vector<ChannelSpec>> specs =
      ParseChannelSpec("jobs:3:r,results:4:w,ctl.v-2_x:17:rw");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 3u);
  EXPECT_EQ((*specs)[0].name, "jobs");
  EXPECT_EQ((*specs)[1].name, "results");
  EXPECT_EQ((*specs)[1].fd, 4);
  EXPECT_EQ((*specs)[1].mode, "w");
  EXPECT_EQ((*specs)[2].name, "ctl.v-2_x");
  EXPECT_EQ((*specs)[2].fd, 17);
  EXPECT_EQ((*specs)[2].mode, "rw");
}

TEST(ParseChannelSpec, LargestFd) {
  absl::StatusOr<std::vector<ChannelSpec>> specs = ParseChannelSpec("a:2147483647:w");
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_EQ((*specs)[0].fd, 2147483647);
}

TEST(ParseChannelSpec, NameOf64CharactersIsValid) {
  const std::string name(64, 'n');
  EXPECT_TRUE(ParseChannelSpec(name + ":3:r").ok());
}

TEST(ParseChannelSpec, RejectsEmptyEntry) {
  ExpectParseError(",", "entry 1");
  ExpectParseError("a:3:r,", "entry 2");
  ExpectParseError(",a:3:r", "empty entry");
  ExpectParseError("a:3:r,,b:4:w", "entry 2 \"\": empty entry");
}

TEST(ParseChannelSpec, RejectsMissingField) {
  ExpectParseError("a:3", "needs 3");
  ExpectParseError("a", "needs 3");
  ExpectParseError("a:3:r,b:4", "entry 2");
}

TEST(ParseChannelSpec, RejectsExtraField) {
  ExpectParseError("a:3:r:x", "has 4");
  ExpectParseError("a:3:r:", "has 4");
}

TEST(ParseChannelSpec, RejectsBadNameCharacters) {
  ExpectParseError("a b:3:r", "invalid name");
  ExpectParseError("a/b:3:r", "invalid name");
  ExpectParseError("caf\xc3\xa9:3:r", "invalid name");
  ExpectParseError(std::string("a\0b:3:r", 7), "invalid name");
}

TEST(ParseChannelSpec, RejectsEmptyName) { ExpectParseError(":3:r", "invalid name"); }

TEST(ParseChannelSpec, RejectsNameOf65Characters) {
  ExpectParseError(std::string(65, 'n') + ":3:r", "invalid name");
}

TEST(ParseChannelSpec, RejectsDuplicateName) {
  ExpectParseError("a:3:r,a:4:w", "duplicate name \"a\"");
}

TEST(ParseChannelSpec, RejectsDuplicateFd) { ExpectParseError("a:3:r,b:3:w", "duplicate fd 3"); }

TEST(ParseChannelSpec, RejectsFdBelow3) {
  ExpectParseError("a:0:r", "fd \"0\"");
  ExpectParseError("a:1:w", "fd \"1\"");
  ExpectParseError("a:2:w", "fd \"2\"");
}

TEST(ParseChannelSpec, RejectsFdThatIsNotANumber) {
  ExpectParseError("a:x:r", "not a decimal number");
  ExpectParseError("a::r", "not a decimal number");
  ExpectParseError("a:3x:r", "not a decimal number");
  ExpectParseError("a:0x10:r", "not a decimal number");
}

TEST(ParseChannelSpec, RejectsSignedFd) {
  ExpectParseError("a:+3:r", "fd \"+3\"");
  ExpectParseError("a:-3:r", "fd \"-3\"");
}

TEST(ParseChannelSpec, RejectsSpacesAroundFd) {
  ExpectParseError("a: 3:r", "fd \" 3\"");
  ExpectParseError("a:3 :r", "fd \"3 \"");
}

TEST(ParseChannelSpec, RejectsHugeFd) {
  ExpectParseError("a:2147483648:r", "not a decimal number from 3 to 2147483647");
  ExpectParseError("a:99999999999999999999999:r", "not a decimal number");
}

TEST(ParseChannelSpec, RejectsBadMode) {
  ExpectParseError("a:3:x", "mode \"x\"");
  ExpectParseError("a:3:wr", "mode \"wr\"");
  ExpectParseError("a:3:R", "mode \"R\"");
  ExpectParseError("a:3:", "mode \"\"");
  ExpectParseError("a:3:rww", "mode \"rww\"");
}

TEST(ParseChannelSpec, ErrorEscapesUnprintableBytes) {
  absl::StatusOr<std::vector<ChannelSpec>> specs = ParseChannelSpec("a:3:\x01");
  ASSERT_FALSE(specs.ok());
  EXPECT_TRUE(MessageHas(specs.status(), "\\x01"));
}

TEST(ParseChannelSpec, NeverCrashesOnArbitraryInput) {
  // A small fuzz: random strings over the characters that matter. Whatever
  // parses must survive a Format/Parse round trip unchanged.
  const std::string alphabet = std::string("ab:,r w3409+-\0", 14);
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string value(rng() % 24, ' ');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    absl::StatusOr<std::vector<ChannelSpec>> specs = ParseChannelSpec(value);
    if (!specs.ok()) continue;
    absl::StatusOr<std::vector<ChannelSpec>> again = ParseChannelSpec(FormatChannelSpec(*specs));
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_EQ(again->size(), specs->size());
  }
}

TEST(FormatChannelSpec, FormatsEntriesInOrder) {
  EXPECT_EQ(FormatChannelSpec({{"jobs", 3, "r"}, {"results", 4, "w"}}), "jobs:3:r,results:4:w");
  EXPECT_EQ(FormatChannelSpec({}), "");
}

TEST(FormatChannelSpec, RoundTripsThroughParse) {
  const std::vector<ChannelSpec> channels = {
      {"jobs", 3, "r"}, {"results", 4, "w"}, {"ctl", 2147483647, "rw"}};
  absl::StatusOr<std::vector<ChannelSpec>> parsed = ParseChannelSpec(FormatChannelSpec(channels));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), channels.size());
  for (size_t i = 0; i < channels.size(); ++i) {
    EXPECT_EQ((*parsed)[i].name, channels[i].name);
    EXPECT_EQ((*parsed)[i].fd, channels[i].fd);
    EXPECT_EQ((*parsed)[i].mode, channels[i].mode);
  }
}

TEST(IsValidChannelName, AcceptsTheAllowedCharacters) {
  EXPECT_TRUE(IsValidChannelName("A-Za_z.0-9"));
  EXPECT_FALSE(IsValidChannelName(""));
  EXPECT_FALSE(IsValidChannelName("a:b"));
  EXPECT_FALSE(IsValidChannelName("a,b"));
}

// Taking channels. The taken names are process-wide: every test uses its own.

TEST(TakeChannel, ReadEndReceivesFromThePipe) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("other:", pipe.fds[1], ":w,take_read:", pipe.fds[0], ":r"));
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_read");
  ASSERT_TRUE(in.ok()) << in.status();
  pipe.Give(0);
  WriteEnd out(OwnedFd::Adopt(pipe.Give(1)));
  ASSERT_TRUE(out.Send("hello").ok());
  absl::StatusOr<std::optional<Bytes>> m = in->Recv();
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->view(), "hello");
}

TEST(TakeChannel, WriteEndSendsIntoThePipe) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("take_write:", pipe.fds[1], ":w"));
  absl::StatusOr<WriteEnd> out = TakeWriteEnd("take_write");
  ASSERT_TRUE(out.ok()) << out.status();
  pipe.Give(1);
  ReadEnd in(OwnedFd::Adopt(pipe.Give(0)));
  ASSERT_TRUE(out->Send("to the parent").ok());
  ASSERT_TRUE(out->Close().ok());
  absl::StatusOr<std::optional<Bytes>> m = in.Recv();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->view(), "to the parent");
  m = in.Recv();
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());  // EOF: the taken end was the only writer
}

TEST(TakeChannel, DuplexEndTalksBothWays) {
  RawPair sockets;
  MakeSocketPair(sockets);
  SetChannels(absl::StrCat("take_duplex:", sockets.fds[0], ":rw"));
  absl::StatusOr<DuplexEnd> worker = TakeDuplexEnd("take_duplex");
  ASSERT_TRUE(worker.ok()) << worker.status();
  sockets.Give(0);
  DuplexEnd parent(OwnedFd::Adopt(sockets.Give(1)));
  ASSERT_TRUE(parent.Send("ping").ok());
  absl::StatusOr<std::optional<Bytes>> m = worker->Recv();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->view(), "ping");
  ASSERT_TRUE(worker->Send("pong").ok());
  m = parent.Recv();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->view(), "pong");
}

TEST(TakeChannel, MakesTheFdCloseOnExec) {
  RawPair pipe;
  MakePipe(pipe);
  ASSERT_FALSE(IsCloexec(pipe.fds[0]));
  SetChannels(absl::StrCat("take_cloexec:", pipe.fds[0], ":r"));
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_cloexec");
  ASSERT_TRUE(in.ok()) << in.status();
  pipe.Give(0);
  EXPECT_TRUE(IsCloexec(in->fd().get()));
}

TEST(TakeChannel, MissingVariableIsAnError) {
  ASSERT_EQ(::unsetenv(kChannelsEnvVar), 0);
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_unset");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(ErrorOf(in.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(in.status(), "take channel \"take_unset\""));
  EXPECT_TRUE(MessageHas(in.status(), "TUBO_CHANNELS is not set"));
}

TEST(TakeChannel, MalformedVariableIsAnError) {
  SetChannels("take_bad:3");
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_bad");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(ErrorOf(in.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(in.status(), "take channel \"take_bad\": parse TUBO_CHANNELS"));
}

TEST(TakeChannel, MissingNameIsAnError) {
  SetChannels("someone_else:3:r");
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_missing");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(ErrorOf(in.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(in.status(), "\"take_missing\": no such channel"));
}

TEST(TakeChannel, InvalidNameIsAnError) {
  SetChannels("a:3:r");
  absl::StatusOr<ReadEnd> in = TakeReadEnd("a b");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(ErrorOf(in.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(in.status(), "not a valid channel name"));
}

TEST(TakeChannel, TakingTwiceIsAnError) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("take_twice:", pipe.fds[0], ":r"));
  absl::StatusOr<ReadEnd> first = TakeReadEnd("take_twice");
  ASSERT_TRUE(first.ok()) << first.status();
  pipe.Give(0);
  absl::StatusOr<ReadEnd> second = TakeReadEnd("take_twice");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(ErrorOf(second.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(second.status(), "\"take_twice\": already taken"));
  EXPECT_TRUE(IsOpen(first->fd().get()));  // the first end still owns it
}

TEST(TakeChannel, WriteModeIsNotAReadEnd) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("take_w_as_r:", pipe.fds[1], ":w"));
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_w_as_r");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(ErrorOf(in.status()), Error::kChannel);
  EXPECT_EQ(Message(in.status()),
            "take channel \"take_w_as_r\": mode is \"w\", a read end needs \"r\"");
}

TEST(TakeChannel, ReadModeIsNotAWriteEnd) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("take_r_as_w:", pipe.fds[0], ":r"));
  absl::StatusOr<WriteEnd> out = TakeWriteEnd("take_r_as_w");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(ErrorOf(out.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(out.status(), "mode is \"r\", a write end needs \"w\""));
}

TEST(TakeChannel, DuplexModeIsNotASimplexEnd) {
  RawPair sockets;
  MakeSocketPair(sockets);
  SetChannels(absl::StrCat("take_rw:", sockets.fds[0], ":rw"));
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_rw");
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(MessageHas(in.status(), "mode is \"rw\", a read end needs \"r\""));
  absl::StatusOr<WriteEnd> out = TakeWriteEnd("take_rw");
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(MessageHas(out.status(), "mode is \"rw\", a write end needs \"w\""));
}

TEST(TakeChannel, SimplexModeIsNotADuplexEnd) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("take_r_as_rw:", pipe.fds[0], ":r"));
  absl::StatusOr<DuplexEnd> end = TakeDuplexEnd("take_r_as_rw");
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(ErrorOf(end.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(end.status(), "mode is \"r\", a duplex end needs \"rw\""));
}

TEST(TakeChannel, ModeMismatchNeitherTakesNorClosesTheFd) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("take_retry:", pipe.fds[0], ":r"));
  ASSERT_FALSE(TakeWriteEnd("take_retry").ok());
  EXPECT_TRUE(IsOpen(pipe.fds[0]));
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_retry");
  ASSERT_TRUE(in.ok()) << in.status();
  pipe.Give(0);
}

TEST(TakeChannel, ConcurrentTakesHandOutTheChannelOnce) {
  RawPair pipe;
  MakePipe(pipe);
  SetChannels(absl::StrCat("take_race:", pipe.fds[0], ":r"));
  std::atomic<int> taken{0};
  std::vector<ReadEnd> winners(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&taken, &winners, i] {
      absl::StatusOr<ReadEnd> end = TakeReadEnd("take_race");
      if (end.ok()) {
        ++taken;
        winners[i] = *std::move(end);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(taken.load(), 1);
  pipe.Give(0);  // owned by the one winner
}

TEST(TakeChannel, FdNotOpenIsAnError) {
  const int closed_fd = 999999;
  ASSERT_FALSE(IsOpen(closed_fd));
  SetChannels(absl::StrCat("take_closed:", closed_fd, ":r"));
  absl::StatusOr<ReadEnd> in = TakeReadEnd("take_closed");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(ErrorOf(in.status()), Error::kChannel);
  EXPECT_TRUE(MessageHas(in.status(), "\"take_closed\": fd 999999 is not open"));
}

}  // namespace
}  // namespace tubo
