// The worker side of contract 2: parsing TUBO_CHANNELS and taking channels.
#include "tubo/channel.h"

#include <fcntl.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tubo/error.h"

namespace tubo {
namespace {

constexpr size_t kMaxChannelNameLength = 64;

// Debian's abseil has its own absl::string_view (not an alias of the std one),
// so the public std::string_view arguments are converted at the boundary.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Quotes `text` for an error message. The input may be anything (the variable
// comes from whoever started us, and a fuzzer feeds the parser), so
// non-printable bytes are escaped and the message stays one readable line.
std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

absl::Status ChannelError(absl::Status status) {
  return WithError(std::move(status), Error::kChannel);
}

absl::Status EntryError(size_t index, absl::string_view entry, absl::string_view what) {
  return ChannelError(absl::InvalidArgumentError(absl::StrCat(
      "parse ", kChannelsEnvVar, ": entry ", index + 1, " ", Quote(entry), ": ", what)));
}

bool IsValidMode(absl::string_view mode) { return mode == "r" || mode == "w" || mode == "rw"; }

// Parses a descriptor number: decimal digits only (no sign, no spaces, which
// absl::SimpleAtoi would accept), 3 to 2^31-1.
bool ParseFd(absl::string_view text, int* fd) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  int32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 3) return false;
  *fd = value;
  return true;
}

// The names taken in this process. Function-local so there is no static
// initialisation order to get wrong, and never destroyed, so a channel taken
// from a static destructor cannot touch a dead set.
//
// A std::mutex (pthreads), not absl::Mutex: the system abseil is built without
// ThreadSanitizer annotations, so TSan cannot see absl::Mutex order accesses
// and would report the set's own, correctly locked, accesses as races.
struct TakenNames {
  std::mutex mu;
  absl::flat_hash_set<std::string> names;  // guarded by mu
};

TakenNames& Taken() {
  static TakenNames* taken = new TakenNames;
  return *taken;
}

// Finds `name` in TUBO_CHANNELS, checks that its mode is `mode`, that it was
// not taken yet and that its descriptor is open, makes the descriptor
// close-on-exec and marks the name taken. `end_type` names the requested end
// in error messages ("a read end").
absl::StatusOr<OwnedFd> TakeChannel(absl::string_view name, absl::string_view mode,
                                    absl::string_view end_type) {
  const std::string op = absl::StrCat("take channel ", Quote(name));
  if (!IsValidChannelName(ToStd(name))) {
    return ChannelError(absl::InvalidArgumentError(
        absl::StrCat(op, ": not a valid channel name (1 to 64 of [A-Za-z0-9_.-])")));
  }
  const char* value = std::getenv(kChannelsEnvVar);
  if (value == nullptr) {
    return ChannelError(
        absl::FailedPreconditionError(absl::StrCat(op, ": ", kChannelsEnvVar, " is not set")));
  }
  absl::StatusOr<std::vector<ChannelSpec>> specs = ParseChannelSpec(std::string_view(value));
  if (!specs.ok()) {
    return ChannelError(
        absl::InvalidArgumentError(absl::StrCat(op, ": ", specs.status().message())));
  }
  const ChannelSpec* spec = nullptr;
  for (const ChannelSpec& s : *specs) {
    if (s.name == name) spec = &s;
  }
  if (spec == nullptr) {
    return ChannelError(
        absl::NotFoundError(absl::StrCat(op, ": no such channel in ", kChannelsEnvVar)));
  }
  if (spec->mode != mode) {
    return ChannelError(absl::FailedPreconditionError(
        absl::StrCat(op, ": mode is \"", spec->mode, "\", ", end_type, " needs \"", mode, "\"")));
  }

  TakenNames& taken = Taken();
  std::lock_guard<std::mutex> lock(taken.mu);
  if (taken.names.contains(name)) {
    return ChannelError(
        absl::FailedPreconditionError(absl::StrCat(op, ": already taken in this process")));
  }
  const int flags = ::fcntl(spec->fd, F_GETFD);
  if (flags < 0) {
    const int err = errno;
    return WithErrno(ChannelError(absl::FailedPreconditionError(
                         absl::StrCat(op, ": fd ", spec->fd, " is not open (",
                                      absl::ErrnoToStatus(err, "fcntl").message(), ")"))),
                     err);
  }
  // Close-on-exec, so the channel does not leak into this worker's own children.
  if ((flags & FD_CLOEXEC) == 0 && ::fcntl(spec->fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
    const int err = errno;
    return SystemError(err, absl::StrCat(op, ": set close-on-exec on fd ", spec->fd),
                       Error::kChannel);
  }
  taken.names.insert(std::string(name));
  return OwnedFd::Adopt(spec->fd);
}

}  // namespace

bool IsValidChannelName(std::string_view name) {
  // Every byte is checked, so a name with an embedded NUL is invalid.
  if (name.empty() || name.size() > kMaxChannelNameLength) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::vector<ChannelSpec>> ParseChannelSpec(std::string_view value) {
  std::vector<ChannelSpec> specs;
  if (value.empty()) return specs;
  absl::flat_hash_set<absl::string_view> names;
  absl::flat_hash_set<int> fds;
  size_t index = 0;
  for (absl::string_view entry : absl::StrSplit(ToAbsl(value), ',')) {
    if (entry.empty()) return EntryError(index, entry, "empty entry");
    std::vector<absl::string_view> fields = absl::StrSplit(entry, ':');
    if (fields.size() != 3) {
      return EntryError(
          index, entry,
          absl::StrCat("has ", fields.size(), " ':'-separated fields, needs 3 (name:fd:mode)"));
    }
    const absl::string_view name = fields[0];
    if (!IsValidChannelName(ToStd(name))) {
      return EntryError(index, entry,
                        absl::StrCat("invalid name ", Quote(name), " (1 to 64 of [A-Za-z0-9_.-])"));
    }
    int fd = -1;
    if (!ParseFd(fields[1], &fd)) {
      return EntryError(
          index, entry,
          absl::StrCat("fd ", Quote(fields[1]), " is not a decimal number from 3 to 2147483647"));
    }
    if (!IsValidMode(fields[2])) {
      return EntryError(index, entry,
                        absl::StrCat("mode ", Quote(fields[2]), " is not r, w or rw"));
    }
    if (!names.insert(name).second) {
      return EntryError(index, entry, absl::StrCat("duplicate name ", Quote(name)));
    }
    if (!fds.insert(fd).second) {
      return EntryError(index, entry, absl::StrCat("duplicate fd ", fd));
    }
    specs.push_back(ChannelSpec{std::string(name), fd, std::string(fields[2])});
    ++index;
  }
  return specs;
}

std::string FormatChannelSpec(const std::vector<ChannelSpec>& channels) {
  return absl::StrJoin(channels, ",", [](std::string* out, const ChannelSpec& c) {
    absl::StrAppend(out, c.name, ":", c.fd, ":", c.mode);
  });
}

absl::StatusOr<ReadEnd> TakeReadEnd(std::string_view name) {
  absl::StatusOr<OwnedFd> fd = TakeChannel(ToAbsl(name), "r", "a read end");
  if (!fd.ok()) return fd.status();
  return ReadEnd(*std::move(fd));
}

absl::StatusOr<WriteEnd> TakeWriteEnd(std::string_view name) {
  absl::StatusOr<OwnedFd> fd = TakeChannel(ToAbsl(name), "w", "a write end");
  if (!fd.ok()) return fd.status();
  return WriteEnd(*std::move(fd));
}

absl::StatusOr<DuplexEnd> TakeDuplexEnd(std::string_view name) {
  absl::StatusOr<OwnedFd> fd = TakeChannel(ToAbsl(name), "rw", "a duplex end");
  if (!fd.ok()) return fd.status();
  return DuplexEnd(*std::move(fd));
}

}  // namespace tubo
