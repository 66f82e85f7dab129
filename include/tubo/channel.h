/// @file
/// @brief The worker side of contract 2: taking channels by name.
///
/// A spawner (`Command::Channel`) places each passed end on fd 3, 4, 5, ... of
/// the child and describes them in the environment variable
/// `TUBO_CHANNELS=name:fd:mode[,name:fd:mode...]` (mode `r`, `w` or `rw`;
/// names match `[A-Za-z0-9_.-]{1,64}` and are unique). A worker takes each
/// channel once, as the end type its mode calls for:
///
/// @code
///   absl::StatusOr<tubo::ReadEnd> in = tubo::TakeReadEnd("in");
///   absl::StatusOr<tubo::WriteEnd> out = tubo::TakeWriteEnd("out");
///   if (!in.ok()) { std::cerr << in.status() << "\n"; return 2; }
/// @endcode
///
/// Any language can attach without tubo (Python:
/// `Connection(3, readable=True, writable=False)`).
///
/// Errors (`Error::kChannel`) name what was wrong: a malformed variable, a
/// missing or already-taken name, a mode that does not match the requested end
/// type, or an fd that is not open. Thread-safe: the taken names are tracked
/// under a lock.
#ifndef TUBO_CHANNEL_H_
#define TUBO_CHANNEL_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tubo/end.h"

namespace tubo {

/// The environment variable that describes a worker's channels.
inline constexpr char kChannelsEnvVar[] = "TUBO_CHANNELS";

/// @brief One entry of `TUBO_CHANNELS`.
struct ChannelSpec {
  /// The channel's name, `[A-Za-z0-9_.-]{1,64}`.
  std::string name;
  /// The descriptor number it was placed on (3 or above).
  int fd = -1;
  /// `"r"`, `"w"` or `"rw"`.
  std::string mode;
};

/// Returns true if `name` is a valid channel name (`[A-Za-z0-9_.-]{1,64}`).
bool IsValidChannelName(std::string_view name);

/// Parses a `TUBO_CHANNELS` value (`name:fd:mode[,...]`; the empty string is
/// an empty list). Errors (`Error::kChannel`, naming the offending entry): an
/// entry without exactly three `:`-separated fields, an invalid or duplicate
/// name, an fd that is not a decimal number from 3 to 2^31-1, a duplicate fd,
/// or a mode other than `r`, `w`, `rw`.
absl::StatusOr<std::vector<ChannelSpec>> ParseChannelSpec(std::string_view value);

/// Formats `channels` as a `TUBO_CHANNELS` value (the inverse of
/// `ParseChannelSpec` for valid input).
std::string FormatChannelSpec(const std::vector<ChannelSpec>& channels);

/// Takes the channel `name` from `TUBO_CHANNELS` as a read end (mode `r`).
/// The descriptor is made close-on-exec, so it does not leak into the
/// worker's own children. Each name can be taken once per process. Errors:
/// `Error::kChannel` (see the file comment).
absl::StatusOr<ReadEnd> TakeReadEnd(std::string_view name);
/// Takes the channel `name` as a write end (mode `w`). See `TakeReadEnd`.
absl::StatusOr<WriteEnd> TakeWriteEnd(std::string_view name);
/// Takes the channel `name` as a duplex end (mode `rw`). See `TakeReadEnd`.
absl::StatusOr<DuplexEnd> TakeDuplexEnd(std::string_view name);

}  // namespace tubo

#endif  // TUBO_CHANNEL_H_
