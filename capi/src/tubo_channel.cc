// capi/tubo_channel.h: the worker side of the channel hand-off.
#include <utility>

#include "internal.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

namespace {

template <typename Take>
int TakeChannel(tubo_end** out, const char* name, tubo_error** err, const char* fn, Take take) {
  return Guard(err, fn, [&] {
    if (out == nullptr) return Null(err, fn, "out");
    if (name == nullptr) return Null(err, fn, "name");
    auto end = take(name);
    if (!end.ok()) return FromStatus(err, end.status());
    *out = NewEnd(std::move(*end));
    return Ok(err);
  });
}

}  // namespace

TUBO_EXPORT int tubo_channel_take_read_end(tubo_end** out, const char* name, tubo_error** err) {
  return TakeChannel(out, name, err, "tubo_channel_take_read_end",
                     [](const char* n) { return tubo::TakeReadEnd(n); });
}

TUBO_EXPORT int tubo_channel_take_write_end(tubo_end** out, const char* name, tubo_error** err) {
  return TakeChannel(out, name, err, "tubo_channel_take_write_end",
                     [](const char* n) { return tubo::TakeWriteEnd(n); });
}

TUBO_EXPORT int tubo_channel_take_duplex_end(tubo_end** out, const char* name, tubo_error** err) {
  return TakeChannel(out, name, err, "tubo_channel_take_duplex_end",
                     [](const char* n) { return tubo::TakeDuplexEnd(n); });
}
