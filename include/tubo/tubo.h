/// @file
/// @brief The whole C++ API of tubo in one include.
///
/// tubo connects processes with pipes whose ends are move-only owners of their
/// descriptors and exchange length-delimited byte messages, byte-compatible
/// with CPython's `multiprocessing.connection.Connection`.
#ifndef TUBO_TUBO_H_
#define TUBO_TUBO_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include "tubo/bytes.h"
#include "tubo/channel.h"
#include "tubo/command.h"
#include "tubo/end.h"
#include "tubo/entry.h"
#include "tubo/error.h"
#include "tubo/fd.h"
#include "tubo/fork.h"
#include "tubo/fork_server.h"
#include "tubo/pipe.h"
#include "tubo/pool.h"
#include "tubo/pool_worker.h"
#include "tubo/process.h"
#include "tubo/recv_result.h"
#include "tubo/sigpipe.h"
#include "tubo/spawn.h"
#include "tubo/stdio.h"
#include "tubo/wait.h"

/// @namespace tubo
/// @brief The C++ API: pipes and their ends, processes and the three start
/// methods, channels, entry points, and one wait over many.
///
/// Where to start, by task (the main page has a \ref first_program "first program"):
/// - connect processes: `Pipe::Create`, `DuplexPipe::Create`; send and
///   receive with `ReadEnd`, `WriteEnd`, `DuplexEnd` (`tubo/end.h`);
/// - start a worker: `Fork()` (fork), `Command` (exec), `Command::Self` (self)
///   with `TUBO_ENTRY()` and `RunEntryIfRequested()` (`tubo/spawn.h`);
/// - own it: `Process`, `ExitStatus`, `StopSequence` (`tubo/process.h`);
/// - in the worker, take the channels it was given: `TakeReadEnd()`,
///   `TakeWriteEnd()`, `TakeDuplexEnd()` (`tubo/channel.h`);
/// - wait on many ends and processes at once: `WaitSet` (`tubo/wait.h`);
/// - farm byte tasks out to a pool of workers, with exact blame when one
///   dies: `Pool`, `WorkerStart`, `Task`; serve them in the worker:
///   `ServePoolTasks()` (`tubo/pool.h`, contract 4);
/// - tell failures apart: `ErrorOf()`, `tubo::Error` (`tubo/error.h`).

#endif  // TUBO_TUBO_H_
