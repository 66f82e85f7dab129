package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"errors"
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
func (e *End) Recv() ([]byte, error) {
	return withEnd(e, func(*C.tubo_end) ([]byte, error) { return e.recv(-1) })
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
// unread for the next receive. io.EOF and the other errors as for Recv.
func (e *End) RecvInto(buf []byte) (int, error) {
	return withEnd(e, func(*C.tubo_end) (int, error) { return e.recvInto(buf, -1) })
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
	for {
		if err := e.PollContext(ctx); err != nil {
			return nil, err
		}
		// Something arrived (or the stream ended): take what is there.
		m, err := e.recvNow()
		if !errors.Is(err, ErrTimeout) {
			return m, err
		}
		// Part of a message: wait for more (PollContext does not count the
		// part the end keeps as ready, so this does not spin).
	}
}

// recvNow receives without waiting: ErrTimeout when no whole message is there.
func (e *End) recvNow() ([]byte, error) {
	return withEnd(e, func(*C.tubo_end) ([]byte, error) { return e.recv(0) })
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
