package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"errors"
	"time"
	"unsafe"
)

// The receiving side of an End: Recv (growing with arrival), RecvInto,
// RecvContext and the largest message accepted. Waiting for something to
// receive is in poll.go.

// Recv receives a message of up to recvScratch bytes into the End's scratch
// buffer and copies it into the slice it returns. A larger one (whose header
// that receive read) of up to recvDirectMax bytes goes straight into a slice
// of its size: that much is allocated before the payload arrives, a bounded
// amount like the first step of the C++ reader's buffer. Beyond it, memory
// must follow the bytes that arrive, never what a header announces: the
// message is received into the library's buffer, which grows with arrival,
// and copied into Go memory once it is whole.
const (
	recvScratch   = 4096
	recvDirectMax = 1 << 20
)

// recvDirectLimit is recvDirectMax; a variable so that a benchmark can
// compare the two ways of receiving a large message.
var recvDirectLimit = recvDirectMax

// Recv receives the next message. At the end of the stream it returns io.EOF,
// again on every later call. ErrTruncated (the writer died mid-message),
// ErrBadLength and ErrTooLarge leave the end unusable, and say so on every
// later call. Memory grows with the bytes that arrive, not with the length a
// header announces (beyond a bounded first step), so peers announcing huge
// messages they never send cannot exhaust it.
//
// While nothing has arrived the goroutine is parked by Go's netpoller, as in
// a net.Conn's Read: it holds no OS thread, another goroutine can Send on the
// same duplex End, and Close unblocks it (it returns ErrClosed). Past the
// read deadline (SetReadDeadline) it returns an error matching ErrTimeout and
// os.ErrDeadlineExceeded. Receives on one End are served one at a time.
func (e *End) Recv() ([]byte, error) {
	return e.RecvContext(context.Background())
}

// receive runs one receive (try: an attempt with e.mu held that waits in
// the C library at most the milliseconds it is given, reporting ErrTimeout
// when no whole message is there by then) until it is done, parked on the
// netpoller between attempts; it gives up when ctx is done or the read
// deadline passes.
//
// An End whose last receive completed within recvSpinMs (a request-reply
// loop, a stream) waits first up to recvSpinMs in the C library, woken by
// the kernel as soon as bytes arrive: such a reply costs no netpoller
// wake-up (which doubles a small round trip when both peers share one CPU).
// An End that waited longer last time (a worker idle for a while) parks at
// once, so idle receivers hold no threads. After a netpoller wake, the
// attempt waits up to recvSpinMs for the rest of a message under way. Close
// and a cancelled ctx take effect within that bound.
func (e *End) receive(ctx context.Context, try func(timeoutMs C.int64_t) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.rmu.Lock()
	defer e.rmu.Unlock()
	w, deadline, err := e.waiter(false)
	if err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	start := time.Now()
	first := true
	err = w.wait(ctx, deadline, "recv", func() (bool, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.h == nil || e.closing {
			return false, closedError("end")
		}
		ms := C.int64_t(recvSpinMs)
		if first && !e.recvHot {
			ms = 0 // an End that waited long last time parks at once
		}
		first = false
		if left := deadlineMs(deadline); left >= 0 && left < ms {
			ms = left
		}
		err := try(ms)
		if isCTimeout(err) {
			return false, nil // not whole yet: the End keeps what arrived
		}
		return true, err
	})
	e.recvHot = time.Since(start) < recvSpinMs*time.Millisecond
	return err
}

// recvSpinMs bounds how long one receive attempt waits in the C library
// (holding a thread and the End) before the goroutine parks on the netpoller.
const recvSpinMs = 1

// isCTimeout reports whether err is the C library's timeout (a receive or
// send with timeout 0 that could not finish).
func isCTimeout(err error) bool {
	ce, ok := err.(*Error)
	return ok && ce.Code == CodeTimeout
}

// recv is Recv with e.mu held and e.h open, giving up after timeoutMs
// (negative: never) with ErrTimeout, the part of the message received kept
// by the library.
func (e *End) recv(timeoutMs C.int64_t) ([]byte, error) {
	if buf := e.pending; buf != nil {
		n, err := e.recvInto(buf, timeoutMs)
		if errors.Is(err, ErrTimeout) {
			return nil, err
		}
		e.pending = nil
		if err == nil {
			if n < len(buf) { // another, shorter message (RecvInto took that one)
				return copyBytes(buf[:n]), nil
			}
			return buf, nil
		}
		var small *BufferTooSmallError
		if !errors.As(err, &small) {
			return nil, err
		}
		// Not the message it was made for (RecvInto took that one): as usual.
	}
	// No library buffer: tubo_end_recv would malloc one per message, which
	// this copied into Go memory and freed (two cgo calls and a copy of the
	// whole message more than this).
	if e.scratch == nil {
		e.scratch = make([]byte, recvScratch)
	}
	n, err := e.recvInto(e.scratch, timeoutMs)
	if err == nil {
		return copyBytes(e.scratch[:n]), nil
	}
	var small *BufferTooSmallError
	if !errors.As(err, &small) {
		return nil, err
	}
	if small.Needed > recvDirectLimit {
		return e.recvGrowing(timeoutMs)
	}
	out := make([]byte, small.Needed)
	n, err = e.recvInto(out, timeoutMs)
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			e.pending = out
		}
		return nil, err
	}
	return out[:n], nil
}

// copyBytes returns a new slice with the bytes of b.
func copyBytes(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// recvGrowing receives the pending message through tubo_end_recv, whose
// buffer grows with the bytes that arrive, and copies it into Go memory.
// With e.mu held and e.h open; timeoutMs as for recv.
func (e *End) recvGrowing(timeoutMs C.int64_t) ([]byte, error) {
	var b *C.tubo_bytes
	var cerr *C.tubo_error
	var rc C.int
	if timeoutMs < 0 {
		rc = C.tubo_end_recv(&b, e.h, &cerr)
	} else {
		rc = C.tubo_end_recv_timeout(&b, e.h, timeoutMs, &cerr)
	}
	if err := takeError(rc, cerr); err != nil {
		return nil, err
	}
	defer C.tubo_bytes_free(b)
	return copyBytes(unsafe.Slice((*byte)(unsafe.Pointer(b.data)), int(b.len))), nil
}

// RecvInto receives the next message into buf and returns its size. If the
// message does not fit, it returns a *BufferTooSmallError carrying the size
// needed (errors.Is(err, tubo.ErrBufferTooSmall)) and the message stays
// unread for the next receive. io.EOF, the other errors and the waiting as
// for Recv.
func (e *End) RecvInto(buf []byte) (int, error) {
	var n int
	err := e.receive(context.Background(), func(ms C.int64_t) (err error) {
		n, err = e.recvInto(buf, ms)
		return err
	})
	return n, err
}

// recvInto is RecvInto with e.mu held and e.h open, giving up after
// timeoutMs (negative: never) with ErrTimeout; the library keeps what
// arrived, also what it stored in buf.
func (e *End) recvInto(buf []byte, timeoutMs C.int64_t) (int, error) {
	p := bytesPtr(buf)
	var n C.size_t
	var cerr *C.tubo_error
	var rc C.int
	if timeoutMs < 0 {
		rc = C.tubo_end_recv_into(&n, e.h, p, C.size_t(len(buf)), &cerr)
	} else {
		rc = C.tubo_end_recv_into_timeout(&n, e.h, p, C.size_t(len(buf)), timeoutMs, &cerr)
	}
	if rc == C.TUBO_E_BUFFER_TOO_SMALL {
		C.tubo_error_free(cerr)
		return 0, &BufferTooSmallError{Needed: int(n), Have: len(buf)}
	}
	if err := takeError(rc, cerr); err != nil {
		return 0, err
	}
	return int(n), nil
}

// RecvContext is Recv that gives up when ctx is done (returning ctx.Err()),
// also in the middle of a message: the end keeps the part received, and the
// next receive continues that message, so nothing is lost or repeated.
func (e *End) RecvContext(ctx context.Context) ([]byte, error) {
	var m []byte
	err := e.receive(ctx, func(ms C.int64_t) (err error) {
		m, err = e.recv(ms)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// SetMaxMessageSize sets the largest message a read or duplex end accepts
// (1 GiB by default); a longer one is ErrTooLarge, before any of it is read.
func (e *End) SetMaxMessageSize(max uint64) error {
	return e.call(func(h *C.tubo_end, cerr **C.tubo_error) C.int {
		return C.tubo_end_set_max_message_size(h, C.uint64_t(max), cerr)
	})
}

// MaxMessageSize returns the largest message a read or duplex end accepts (0
// for a write end or a closed end).
func (e *End) MaxMessageSize() uint64 {
	return endValue(e, 0, func(h *C.tubo_end) uint64 { return uint64(C.tubo_end_max_message_size(h)) })
}
