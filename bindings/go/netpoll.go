package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Waiting without a thread: a netWait is a C wait set whose descriptor is
// registered with Go's netpoller, so a goroutine waiting on it is parked by
// the runtime (as one reading a net.Conn is) and holds no OS thread. Every
// blocking wait of the binding (a receive, a poll, a process's exit, a
// WaitSet) goes through one, and closing it wakes its waiter.

// netWait is an epoll descriptor in the netpoller: a C wait set's (for a
// WaitSet) or one of the binding's own watching a single descriptor (an
// End's, a child's pidfd). One goroutine waits on it at a time (its owner
// serializes).
type netWait struct {
	woken atomic.Bool      // wake was called: a failed wait means closed
	ws    *C.tubo_wait_set // nil for a single descriptor's wait
	f     *os.File         // the epoll descriptor, non-blocking
	rc    syscall.RawConn
}

// pastTime is a deadline that has passed: setting it wakes a parked waiter.
var pastTime = time.Unix(1, 0)

// newNetWait makes an empty C wait set and registers a duplicate of its
// descriptor with the netpoller. The duplicate shares the set's open file
// (and so its O_NONBLOCK flag, which epoll_wait ignores: the C wait still
// blocks for its timeout).
func newNetWait() (*netWait, error) {
	if versionErr != nil {
		return nil, versionErr
	}
	var ws *C.tubo_wait_set
	var cerr *C.tubo_error
	if err := takeError(C.tubo_wait_set_new(&ws, &cerr), cerr); err != nil {
		return nil, err
	}
	fd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(C.tubo_wait_set_fd(ws)), syscall.F_DUPFD_CLOEXEC, 3)
	if errno != 0 {
		C.tubo_wait_set_free(ws)
		return nil, systemError("duplicating a wait set's descriptor", errno)
	}
	w, err := pollable(int(fd))
	if err != nil {
		C.tubo_wait_set_free(ws)
		return nil, err
	}
	w.ws = ws
	return w, nil
}

// newFdWait makes an epoll descriptor watching fd (borrowed) for events
// (EPOLLIN or EPOLLOUT), level-triggered, in the netpoller: one descriptor,
// whatever fd's flags (an End's descriptor stays blocking, as the C library
// wants it).
func newFdWait(fd int, events uint32) (*netWait, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, systemError("epoll_create1", err)
	}
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd)}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(ep)
		return nil, systemError(fmt.Sprintf("epoll_ctl on fd %d", fd), err)
	}
	return pollable(ep)
}

// pollable puts the epoll descriptor fd (owned) in the netpoller.
func pollable(fd int) (*netWait, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, systemError("making an epoll descriptor non-blocking", err)
	}
	f := os.NewFile(uintptr(fd), "tubo wait")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, systemError("an epoll descriptor in the netpoller", err)
	}
	return &netWait{f: f, rc: rc}, nil
}

// systemError is an ErrSystem naming what failed, wrapping its errno.
func systemError(what string, err error) error {
	errno, _ := err.(syscall.Errno)
	return &Error{Code: CodeSystem, Message: "tubo: " + what + ": " + err.Error(), Errno: errno}
}

// pollNow reports whether fd has any of events (POLLIN, POLLOUT; errors and
// hang-ups count too) now, without waiting.
func pollNow(fd int, events int16) (bool, error) {
	pfd := [1]struct {
		fd      int32
		events  int16
		revents int16
	}{{int32(fd), events, 0}}
	var zero syscall.Timespec
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd[0])), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return false, systemError(fmt.Sprintf("poll on fd %d", fd), errno)
		}
		return n > 0, nil
	}
}

// wake closes the netpoller's descriptor: a goroutine parked in wait returns
// (closed), and so does every later wait. Close returns once no wait is
// running, so it must not be called while holding a lock that try takes.
// The C set stays until free.
func (w *netWait) wake() {
	w.woken.Store(true)
	w.f.Close()
}

// free releases the C set, if any; after wake, with no wait running.
func (w *netWait) free() {
	if w.ws != nil {
		C.tubo_wait_set_free(w.ws)
		w.ws = nil
	}
}

// wait calls try, and again each time the set's descriptor becomes readable,
// until try reports done or fails (its error is returned), parking the
// goroutine in between. It also returns when ctx is done (ctx.Err()), when
// deadline (zero: none) passes (a timeout error naming what, matching
// ErrTimeout and os.ErrDeadlineExceeded), or when the netWait is woken by
// its owner's Close (ErrClosed naming what).
func (w *netWait) wait(ctx context.Context, deadline time.Time, what string, try func() (bool, error)) error {
	done, err := try()
	if err != nil || done {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctxDeadline := false
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || !deadline.Before(d)) {
		deadline, ctxDeadline = d, true
	}
	if err := w.f.SetReadDeadline(deadline); err != nil {
		return w.waitError(ctx, ctxDeadline, err, what)
	}
	// A cancelled ctx sets a past deadline, which wakes the parked
	// goroutine; finished keeps it from doing so after this wait is over.
	var mu sync.Mutex
	finished := false
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if !finished {
				w.f.SetReadDeadline(pastTime)
			}
		})
	}
	var tryErr error
	err = w.rc.Read(func(uintptr) bool {
		done, tryErr = try()
		return done || tryErr != nil
	})
	if stop != nil {
		stop()
		mu.Lock()
		finished = true
		mu.Unlock()
	}
	if tryErr != nil {
		return tryErr
	}
	if err == nil {
		return nil
	}
	return w.waitError(ctx, ctxDeadline, err, what)
}

// waitError turns what the netpoller reported into the binding's error: the
// context's error when it is done or its deadline was the one that passed
// (ctxDeadline; the file's timer may fire just before the context's).
func (w *netWait) waitError(ctx context.Context, ctxDeadline bool, err error, what string) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && ctxDeadline:
		return context.DeadlineExceeded
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "tubo: " + what + ": deadline exceeded"}
	case w.woken.Load() || errors.Is(err, os.ErrClosed):
		return closedError(what)
	}
	return &Error{Code: CodeSystem, Message: "tubo: " + what + ": " + err.Error()}
}

// ready runs the C wait with timeout 0 and returns the keys that are ready
// (keys must have room for every member). The caller holds what the members
// need held (their Ends' locks).
func (w *netWait) ready(keys []C.uint64_t) ([]uint64, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var got C.size_t
	var cerr *C.tubo_error
	if err := takeError(C.tubo_wait_set_wait(&got, w.ws, &keys[0], C.size_t(len(keys)), 0, &cerr), cerr); err != nil {
		return nil, err
	}
	out := make([]uint64, got)
	for i := range out {
		out[i] = uint64(keys[i])
	}
	return out, nil
}
