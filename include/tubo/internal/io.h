// Internal: the system-call layer under the ends. Not part of the public API.
//
// Every loop here retries EINTR and keeps its deadline; no function installs a
// signal handler or changes process-wide state.
#ifndef TUBO_INTERNAL_IO_H_
#define TUBO_INTERNAL_IO_H_

#include "tubo/internal/requires_cxx17.h"  // first: a clear error in C++14 and older

#include <sys/uio.h>

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tubo {
namespace internal {

// How an end writes: unknown until the first write tries `sendmsg`.
enum class WriteKind : unsigned char { kUnknown, kSocket, kOther };

// The SIGPIPE declaration (tubo/sigpipe.h): once set, writes to pipes leave
// the thread's signal mask alone.
void SetSigpipeDeclaredIgnored();
bool SigpipeIsDeclaredIgnored();
// Forgets the declaration: for a child whose dispositions were reset to the
// defaults (tubo::Fork), where the parent's promise no longer holds.
void ClearSigpipeDeclaredIgnored();

// Writes all of `iov[0..count)` to `fd`, handling short writes and EINTR.
// Never raises SIGPIPE: sockets use MSG_NOSIGNAL, other descriptors block
// SIGPIPE in the calling thread for the duration of the write and consume the
// one the write raised (the thread's signal mask is restored). `kind` caches
// whether `fd` is a socket. `iov` is modified. `op` names the operation in
// error messages ("send", "flush"). On error, `*written` (if given) holds the
// bytes that did leave.
absl::Status WriteAll(int fd, WriteKind& kind, struct iovec* iov, int count, const char* op,
                      size_t* written = nullptr);

// Writes what it can of `iov[0..count)` to `fd` without blocking, although
// `fd` itself stays a blocking descriptor (its flags are shared with every
// process holding it, so they are never changed): sockets use
// MSG_DONTWAIT|MSG_NOSIGNAL, pipes `pwritev2(RWF_NOWAIT)`; where the kernel
// refuses RWF_NOWAIT, a write of at most PIPE_BUF bytes after poll reports
// POLLOUT (which a single writer cannot block on). Stops when everything is
// written or the descriptor would block. SIGPIPE as for WriteAll. `iov` is
// modified; `*written` (always set) holds the bytes that left, also on error.
absl::Status WriteSomeNonBlocking(int fd, WriteKind& kind, struct iovec* iov, int count,
                                  const char* op, size_t* written);

// Waits until `fd` is writable or in error (poll's POLLOUT, POLLERR, POLLHUP)
// or `deadline` passes. Returns whether it became ready.
absl::StatusOr<bool> WaitWritable(int fd, absl::Time deadline);

// Enlarged pipe capacity, bounded and given back (see tubo/end.h).
//
// A sender enlarges a pipe only for the duration of a large message
// (GrowPipe), and gives the capacity back (ShrinkPipe) once the kernel lets it
// (F_SETPIPE_SZ fails with EBUSY while more is queued than the smaller size).
// The whole process holds at most PipeGrowthBudgetPages() pages above the
// pipes' previous sizes at once: 1/8 of /proc/sys/fs/pipe-user-pages-soft (read
// once), so the user's other pipes, in any process, never fall back to 8 KiB
// because of tubo.
struct PipeGrowth {
  size_t old_size = 0;  // the capacity before GrowPipe (0: not grown)
  size_t pages = 0;     // pages taken from the process budget
};
// Best effort: enlarges the pipe `fd` to `size` bytes if it is smaller and the
// process budget has room. Failures leave the pipe as it was (and `*growth`
// empty); on success `*growth` records what to give back.
void GrowPipe(int fd, size_t size, PipeGrowth* growth);
// Tries to give a grown pipe its old size back. Returns true (and empties
// `*growth`, returning its pages to the budget) on success or if `fd` is no
// longer a pipe; false while too much is queued (EBUSY).
bool ShrinkPipe(int fd, PipeGrowth* growth);
// Forgets `*growth` (the end is being closed or released): returns its pages
// to the budget whether or not the pipe could be shrunk.
void DropPipeGrowth(PipeGrowth* growth);
// The pages the process holds above the pipes' previous sizes, and its bound.
size_t PipeGrowthPages();
size_t PipeGrowthBudgetPages();

// One read(2) into `buf`, retrying EINTR. Returns bytes read, 0 at end of stream.
// ECONNRESET counts as end of stream: a stream socket whose peer closed while
// bytes sent to it were still unread reports it once, after every byte the
// peer sent has been read, so nothing is lost and the peer is gone, exactly
// as at EOF (a frame cut short is still reported as truncated).
absl::StatusOr<size_t> ReadSome(int fd, char* buf, size_t size);

// Waits until `fd` is readable, at end of stream or in error (poll's POLLIN,
// POLLHUP, POLLERR), or `timeout` passes. Returns whether it became ready.
// An infinite timeout waits forever; a zero timeout only looks.
absl::StatusOr<bool> WaitReadable(int fd, absl::Duration timeout);

// Keeps a descriptor tubo just created off 0, 1 and 2. In a process started
// with standard streams closed, the kernel hands out the lowest free numbers,
// so a new pipe could land on 0 or 1, where every child (which keeps 0-2)
// would inherit it and a child's prints would land in a framed stream. If
// `fd` is below 3, it is moved to the lowest free number >= 3
// (close-on-exec) and the original is closed. Returns the descriptor to use,
// or -1 with errno set (the original is closed then too). Never allocates.
int OffStdio(int fd);

// "<op> on fd <fd>: <what>" with the errno text; kind kSystem, or kPeerClosed
// for EPIPE and ECONNRESET.
absl::Status ErrnoError(int err, const char* op, int fd);

}  // namespace internal
}  // namespace tubo

#endif  // TUBO_INTERNAL_IO_H_
