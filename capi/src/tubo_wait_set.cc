// capi/tubo_wait_set.h: waiting on many ends and processes.
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "internal.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

TUBO_EXPORT int tubo_wait_set_new(tubo_wait_set** out, tubo_error** err) {
  return Guard(err, "tubo_wait_set_new", [&] {
    TUBO_REQUIRE(out, "tubo_wait_set_new");
    absl::StatusOr<tubo::WaitSet> set = tubo::WaitSet::Create();
    if (!set.ok()) return FromStatus(err, set.status());
    *out = new tubo_wait_set{std::move(*set)};
    return Ok(err);
  });
}

TUBO_EXPORT void tubo_wait_set_free(tubo_wait_set* set) { delete set; }

TUBO_EXPORT int tubo_wait_set_fd(const tubo_wait_set* set) {
  return set == nullptr ? -1 : set->set.fd().get();
}

TUBO_EXPORT int tubo_wait_set_add_end(tubo_wait_set* set, tubo_end* end, uint64_t key,
                                      tubo_error** err) {
  return Guard(err, "tubo_wait_set_add_end", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_add_end");
    return WithReceiver(end, err, "tubo_wait_set_add_end",
                        [&](auto& e) { return FromStatus(err, set->set.Add(e, key)); });
  });
}

TUBO_EXPORT int tubo_wait_set_add_end_writable(tubo_wait_set* set, tubo_end* end, uint64_t key,
                                               tubo_error** err) {
  return Guard(err, "tubo_wait_set_add_end_writable", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_add_end_writable");
    return WithSender(end, err, "tubo_wait_set_add_end_writable", [&](auto& e) {
      // A write end is watched for writability by Add; a duplex end by AddWritable.
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, tubo::DuplexEnd>) {
        return FromStatus(err, set->set.AddWritable(e, key));
      } else {
        return FromStatus(err, set->set.Add(e, key));
      }
    });
  });
}

TUBO_EXPORT int tubo_wait_set_add_process(tubo_wait_set* set, tubo_process* process, uint64_t key,
                                          tubo_error** err) {
  return Guard(err, "tubo_wait_set_add_process", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_add_process");
    TUBO_REQUIRE(process, "tubo_wait_set_add_process");
    return FromStatus(err, set->set.Add(process->p, key));
  });
}

TUBO_EXPORT int tubo_wait_set_remove(tubo_wait_set* set, uint64_t key, tubo_error** err) {
  return Guard(err, "tubo_wait_set_remove", [&] {
    TUBO_REQUIRE(set, "tubo_wait_set_remove");
    return FromStatus(err, set->set.Remove(key));
  });
}

TUBO_EXPORT size_t tubo_wait_set_size(const tubo_wait_set* set) {
  return set == nullptr ? 0 : set->set.size();
}

TUBO_EXPORT int tubo_wait_set_wait(size_t* out_count, tubo_wait_set* set, uint64_t* keys,
                                   size_t cap, int64_t timeout_ms, tubo_error** err) {
  return Guard(err, "tubo_wait_set_wait", [&] {
    TUBO_REQUIRE(out_count, "tubo_wait_set_wait");
    TUBO_REQUIRE(set, "tubo_wait_set_wait");
    if (keys == nullptr && cap != 0) return Null(err, "tubo_wait_set_wait", "keys");
    absl::StatusOr<std::vector<uint64_t>> ready = set->set.Wait(Ms(timeout_ms));
    if (!ready.ok()) return FromStatus(err, ready.status());
    size_t n = ready->size() < cap ? ready->size() : cap;
    for (size_t i = 0; i < n; ++i) keys[i] = (*ready)[i];
    *out_count = n;
    return Ok(err);
  });
}
