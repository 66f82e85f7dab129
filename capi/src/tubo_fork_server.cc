// capi/tubo_fork_server.h: the fork server start method.
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "internal.h"
#include "tubo/fork_server.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

TUBO_EXPORT int tubo_fork_server_new(tubo_fork_server** out, tubo_error** err) {
  return Guard(err, "tubo_fork_server_new", [&] {
    TUBO_REQUIRE(out, "tubo_fork_server_new");
    absl::StatusOr<tubo::ForkServer> server = tubo::ForkServer::Start();
    if (!server.ok()) return FromStatus(err, server.status());
    *out = new tubo_fork_server{std::make_shared<tubo::ForkServer>(std::move(*server))};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_fork_server_spawn(tubo_process** out, tubo_fork_server* server,
                                       tubo_command* command, tubo_error** err) {
  return WithHandle(server, err, "tubo_fork_server_spawn", "server", [&](tubo_fork_server& s) {
    TUBO_REQUIRE(out, "tubo_fork_server_spawn");
    TUBO_REQUIRE(command, "tubo_fork_server_spawn");
    absl::StatusOr<tubo::Process> p = s.server->Spawn(command->cmd);
    if (!p.ok()) return FromStatus(err, p.status());
    *out = new tubo_process{std::move(*p)};
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_fork_server_pid(const tubo_fork_server* server) {
  try {
    return server != nullptr ? static_cast<int>(server->server->server_pid()) : -1;
  } catch (...) {
    return -1;
  }
}

TUBO_EXPORT void tubo_fork_server_free(tubo_fork_server* server) { DeleteQuietly(server); }
