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
#include "tubo/pipe.h"
#include "tubo/process.h"
#include "tubo/recv_result.h"
#include "tubo/spawn.h"
#include "tubo/stdio.h"
#include "tubo/wait.h"

#endif  // TUBO_TUBO_H_
