package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"runtime"
	"syscall"
	"time"
)

// The End's waits and its end: the netpoller waits of each side (netpoll.go)
// with their deadlines, and Close and the hand-off to a child, which wake
// whoever is waiting before the descriptor goes.

// take gives up the C handle (to a call that consumes it): the End becomes
// closed, its waiters return ErrClosed and it leaves its WaitSets. Returns
// nil if it already was closed.
func (e *End) take() *C.tubo_end {
	if !e.beginClose() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.h
	e.h = nil
	e.freeWaits()
	runtime.SetFinalizer(e, nil)
	return h
}

// beginClose starts closing or handing off the End: no new wait or WaitSet
// takes it, the goroutines parked on it are woken (they return ErrClosed),
// and it leaves every WaitSet. Then the caller frees it under e.mu. Returns
// false if the End is already closed. It never holds e.mu while waking: a
// waiter's try takes it.
func (e *End) beginClose() bool {
	e.mu.Lock()
	if e.h == nil {
		e.mu.Unlock()
		return false
	}
	e.closing = true
	rw, ww, sets := e.rw, e.ww, e.sets
	e.sets = nil
	e.mu.Unlock()
	for s := range sets {
		s.forgetEnd(e)
	}
	for _, w := range []*netWait{rw, ww} {
		if w != nil {
			w.wake()
		}
	}
	return true
}

// freeWaits releases the End's wait sets (after beginClose; with e.mu held).
func (e *End) freeWaits() {
	for _, w := range []*netWait{e.rw, e.ww} {
		if w != nil {
			w.free()
		}
	}
	e.rw, e.ww = nil, nil
}

// Close flushes and closes the end. The end is closed even when the flush
// fails (the error is returned). Closing a closed end returns nil.
//
// Close unblocks the goroutines waiting on the End in Recv, RecvInto,
// RecvContext, Poll, PollContext, PollWrite, PollWriteContext or SendContext:
// they return ErrClosed, and the descriptor is released only after they
// have returned, so none of them can touch a descriptor number reused by
// then. It also removes the End from its WaitSets. A Send blocked on a full
// pipe is not interrupted: Close waits for it (bound it with
// SetWriteDeadline, or use SendContext).
func (e *End) Close() error {
	if !e.beginClose() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return nil // a concurrent Close finished first
	}
	e.freeWaits()
	var cerr *C.tubo_error
	err := takeError(C.tubo_end_close(e.h, &cerr), cerr)
	C.tubo_end_free(e.h)
	e.h = nil
	runtime.SetFinalizer(e, nil)
	return err
}

// waiter returns the End's wait for receiving (write false) or sending
// (write true), making it on first use, and the deadline set for that side.
func (e *End) waiter(write bool) (*netWait, time.Time, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil || e.closing {
		return nil, time.Time{}, closedError("end")
	}
	if write && e.kind == ReadEnd {
		return nil, time.Time{}, &Error{Code: CodeInvalidArgument, Message: "tubo: a read end cannot send: it has no room to wait for"}
	}
	if !write && e.kind == WriteEnd {
		return nil, time.Time{}, &Error{Code: CodeInvalidArgument, Message: "tubo: a write end cannot receive: it has nothing to wait for"}
	}
	w, deadline, events := &e.rw, e.readDeadline, uint32(syscall.EPOLLIN)
	if write {
		w, deadline, events = &e.ww, e.writeDeadline, syscall.EPOLLOUT
	}
	if *w == nil {
		nw, err := newFdWait(int(C.tubo_end_fd(e.h)), events)
		if err != nil {
			return nil, time.Time{}, err
		}
		*w = nw
	}
	return *w, deadline, nil
}

// readyNow reports whether the End is ready now to receive (write false:
// a whole message in its read-ahead buffer counts, or anything to read on
// its descriptor) or to send (write true: room in its descriptor, or its
// readers gone).
func (e *End) readyNow(write bool) (bool, error) {
	return withEnd(e, func(h *C.tubo_end) (bool, error) {
		if write {
			return pollNow(int(C.tubo_end_fd(h)), pollOut)
		}
		var ready C.int
		var cerr *C.tubo_error
		err := takeError(C.tubo_end_poll(&ready, h, 0, &cerr), cerr)
		return ready != 0, err
	})
}

// pollOut is POLLOUT (the syscall package has no poll constants).
const pollOut = 0x4

// SetDeadline sets both the read and the write deadline (see
// SetReadDeadline and SetWriteDeadline).
func (e *End) SetDeadline(t time.Time) error {
	if err := e.SetReadDeadline(t); err != nil {
		return err
	}
	return e.SetWriteDeadline(t)
}

// SetReadDeadline sets when Recv, RecvInto and RecvContext give up waiting,
// as net.Conn's does: past it they return an error matching ErrTimeout and
// os.ErrDeadlineExceeded, and the part of a message already received stays
// with the End for the next receive. It applies to a receive already
// waiting, too. A zero t means no deadline.
func (e *End) SetReadDeadline(t time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	e.readDeadline = t
	if e.rw != nil {
		e.rw.f.SetReadDeadline(t) // a waiting receive sees it at once
	}
	return nil
}

// SetWriteDeadline sets when Send, Flush and SendContext give up waiting for
// room, as net.Conn's does: past it they return an error matching ErrTimeout
// and os.ErrDeadlineExceeded, and the message was not accepted (nothing of
// it was written). A send already waiting keeps the deadline it started
// with. A zero t means no deadline.
func (e *End) SetWriteDeadline(t time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	e.writeDeadline = t
	return nil
}

// deadlineMs is the time left until deadline in milliseconds for a C call
// with a timeout (-1: no deadline; 0: passed), rounded up.
func deadlineMs(deadline time.Time) C.int64_t {
	if deadline.IsZero() {
		return -1
	}
	left := time.Until(deadline)
	if left <= 0 {
		return 0
	}
	return C.int64_t((left + time.Millisecond - 1) / time.Millisecond)
}
