// capi/tubo_process.h: process handles.
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "internal.h"
#include "tubo/tubo.h"

using namespace tubo_capi;  // NOLINT(build/namespaces): the helpers of internal.h

namespace {

// A call on a process: fails for a NULL process, else gives `f` its
// tubo::Process and returns what `f` returns.
template <typename F>
int ProcessCall(tubo_process* process, tubo_error** err, const char* fn, F&& f) {
  return WithHandle(process, err, fn, "process", [&](tubo_process& h) { return f(h.p); });
}

// The stop sequence setters: `f` changes a copy of the process's
// StopSequence, which then replaces it.
template <typename F>
int UpdateStop(tubo::Process& p, tubo_error** err, F&& f) {
  tubo::StopSequence s = p.stop_sequence();
  f(s);
  p.set_stop_sequence(s);
  return Ok(err);
}

// tubo_process_wait_timeout and tubo_process_try_wait: `st` empty is a
// child still running.
int WaitResult(int* out, tubo_process* process,
               const absl::StatusOr<std::optional<tubo::ExitStatus>>& st, tubo_error** err) {
  if (!st.ok()) return FromStatus(err, st.status());
  if (!*st) {
    return Fail(
        err, TUBO_E_TIMEOUT,
        "wait for pid " + std::to_string(process->p.pid()) + ": the process is still running");
  }
  if (out != nullptr) *out = (*st)->returncode();
  return Ok(err);
}

std::optional<tubo::ExitStatus> StatusOf(const tubo_process* process) {
  if (process == nullptr) return std::nullopt;
  return process->p.exit_status();
}

}  // namespace

TUBO_EXPORT void tubo_process_free(tubo_process* process) { DeleteQuietly(process); }

TUBO_EXPORT int tubo_process_pid(const tubo_process* process) {
  return process == nullptr ? -1 : static_cast<int>(process->p.pid());
}

TUBO_EXPORT int tubo_process_pidfd(const tubo_process* process) {
  return process == nullptr ? -1 : process->p.pidfd().get();
}

// ---------------------------------------------------------------- waiting

TUBO_EXPORT int tubo_process_wait(int* out, tubo_process* process, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_wait", [&](tubo::Process& p) {
    absl::StatusOr<tubo::ExitStatus> st = p.Wait();
    if (!st.ok()) return FromStatus(err, st.status());
    if (out != nullptr) *out = st->returncode();
    return Ok(err);
  });
}

TUBO_EXPORT int tubo_process_wait_timeout(int* out, tubo_process* process, int64_t timeout_ms,
                                          tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_wait_timeout", [&](tubo::Process& p) {
    return WaitResult(out, process, p.WaitFor(Ms(timeout_ms)), err);
  });
}

TUBO_EXPORT int tubo_process_try_wait(int* out, tubo_process* process, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_try_wait",
                     [&](tubo::Process& p) { return WaitResult(out, process, p.TryWait(), err); });
}

// ------------------------------------------------------ signals, detaching

TUBO_EXPORT int tubo_process_signal(tubo_process* process, int signo, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_signal",
                     [&](tubo::Process& p) { return FromStatus(err, p.Signal(signo)); });
}

TUBO_EXPORT int tubo_process_terminate(tubo_process* process, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_terminate",
                     [&](tubo::Process& p) { return FromStatus(err, p.Terminate()); });
}

TUBO_EXPORT int tubo_process_kill(tubo_process* process, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_kill",
                     [&](tubo::Process& p) { return FromStatus(err, p.Kill()); });
}

TUBO_EXPORT int tubo_process_detach(tubo_process* process, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_detach",
                     [&](tubo::Process& p) { return FromStatus(err, p.Detach()); });
}

TUBO_EXPORT int tubo_process_signal_group(tubo_process* process, int signo, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_signal_group",
                     [&](tubo::Process& p) { return FromStatus(err, p.SignalGroup(signo)); });
}

TUBO_EXPORT int tubo_process_leads_group(const tubo_process* process) {
  return process != nullptr && process->p.leads_group() ? 1 : 0;
}

// ---------------------------------------------------------- stop sequence

TUBO_EXPORT int tubo_process_set_stop_grace(tubo_process* process, int64_t grace_ms,
                                            tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_set_stop_grace", [&](tubo::Process& p) {
    return UpdateStop(p, err, [&](tubo::StopSequence& s) { s.grace = Ms(grace_ms); });
  });
}

TUBO_EXPORT int tubo_process_set_stop_signal(tubo_process* process, int signo, tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_set_stop_signal", [&](tubo::Process& p) {
    if (signo < 0 || signo > 64) {
      return Fail(err, TUBO_E_INVALID_ARGUMENT,
                  "tubo_process_set_stop_signal: bad signal " + std::to_string(signo));
    }
    return UpdateStop(p, err, [&](tubo::StopSequence& s) { s.signal = signo; });
  });
}

TUBO_EXPORT int tubo_process_set_stop_timeout(tubo_process* process, int64_t timeout_ms,
                                              tubo_error** err) {
  return ProcessCall(process, err, "tubo_process_set_stop_timeout", [&](tubo::Process& p) {
    return UpdateStop(p, err, [&](tubo::StopSequence& s) { s.signal_timeout = Ms(timeout_ms); });
  });
}

// ------------------------------------------------------------ exit status

TUBO_EXPORT int tubo_process_reaped(const tubo_process* process) {
  return StatusOf(process).has_value() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_exited(const tubo_process* process) {
  auto s = StatusOf(process);
  return s && s->exited() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_exit_code(const tubo_process* process) {
  auto s = StatusOf(process);
  return s ? s->exit_code() : -1;
}

TUBO_EXPORT int tubo_process_signaled(const tubo_process* process) {
  auto s = StatusOf(process);
  return s && s->signaled() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_term_signal(const tubo_process* process) {
  auto s = StatusOf(process);
  return s ? s->signal() : 0;
}

TUBO_EXPORT int tubo_process_core_dumped(const tubo_process* process) {
  auto s = StatusOf(process);
  return s && s->core_dumped() ? 1 : 0;
}

TUBO_EXPORT int tubo_process_returncode(const tubo_process* process) {
  auto s = StatusOf(process);
  return s ? s->returncode() : 0;
}
