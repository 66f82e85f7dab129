package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"time"
)

// The sending side of an End: Send, TrySend, SendTimeout, SendContext, the
// send buffer and Flush. Waiting for room is in poll.go.

// Send sends b as one message (an empty b is a message too). It blocks until
// the message is written or stored in the send buffer; b is not kept.
// Errors: ErrPeerClosed when no reader is left, ErrClosed, ErrInvalidArgument
// on a read end, ErrSystem. With a write deadline (SetWriteDeadline), it
// gives up when it passes, with an error matching ErrTimeout and
// os.ErrDeadlineExceeded, and then nothing of b was written.
//
// Send waits for room in the C library, on the calling goroutine's thread,
// and holds the End meanwhile (a Recv on the same duplex End waits for it);
// SendContext waits on the netpoller instead.
func (e *End) Send(b []byte) error {
	return e.call(func(h *C.tubo_end, cerr **C.tubo_error) C.int {
		if d := e.writeDeadline; !d.IsZero() {
			return C.tubo_end_send_timeout(h, bytesPtr(b), C.size_t(len(b)), deadlineMs(d), cerr)
		}
		return C.tubo_end_send(h, bytesPtr(b), C.size_t(len(b)), cerr)
	})
}

// TrySend sends b as one message without blocking. It returns true when the
// message was accepted: written whole, or committed: part of it was written
// and the End keeps a copy of the rest (Unsent() > 0), which it writes before
// anything else on the next TrySend, SendTimeout, SendContext, Send, Flush or
// Close. It returns false, with nothing of b written, when there is no room
// now (offer the same message again later, for example once PollWrite or
// WaitEnds reports the End writable). A TrySend first tries to finish a
// committed rest; if it cannot, b is not accepted. With a send buffer, the
// buffered messages and b are written together. Errors as for Send
// (ErrPeerClosed when no reader is left).
func (e *End) TrySend(b []byte) (bool, error) {
	return withEnd(e, func(h *C.tubo_end) (bool, error) {
		var cerr *C.tubo_error
		rc := C.tubo_end_try_send(h, bytesPtr(b), C.size_t(len(b)), &cerr)
		if rc == C.TUBO_E_TIMEOUT {
			C.tubo_error_free(cerr)
			return false, nil
		}
		if err := takeError(rc, cerr); err != nil {
			return false, err
		}
		return true, nil
	})
}

// SendTimeout sends b as one message, waiting at most timeout for room (a
// negative timeout waits forever, as Send). It returns nil when the message
// was accepted (written, or committed with its rest kept by the End, see
// TrySend), and an error matching ErrTimeout (and os.ErrDeadlineExceeded)
// only when nothing of b was written, so the same message may be sent again.
func (e *End) SendTimeout(b []byte, timeout time.Duration) error {
	return e.call(func(h *C.tubo_end, cerr **C.tubo_error) C.int {
		return C.tubo_end_send_timeout(h, bytesPtr(b), C.size_t(len(b)), durationMs(timeout), cerr)
	})
}

// SendContext sends b as one message, waiting for room until ctx is done
// or the write deadline passes (then it returns ctx.Err() or an error
// matching ErrTimeout and os.ErrDeadlineExceeded, with nothing of b
// written). Accepted means written or committed, as for TrySend. While it
// waits, the goroutine is parked on the netpoller (no OS thread), the End is
// free for a Recv on another goroutine, and Close unblocks it (ErrClosed).
func (e *End) SendContext(ctx context.Context, b []byte) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	w, deadline, err := e.waiter(true)
	if err != nil {
		return err
	}
	return w.wait(ctx, deadline, "send", func() (bool, error) { return e.TrySend(b) })
}

// FlushTimeout writes out what the End holds (a committed rest and the send
// buffer), waiting at most timeout (0 only tries, negative waits forever).
// An error matching ErrTimeout means some is still held (progress is kept).
func (e *End) FlushTimeout(timeout time.Duration) error {
	return e.call(func(h *C.tubo_end, cerr **C.tubo_error) C.int {
		return C.tubo_end_flush_timeout(h, durationMs(timeout), cerr)
	})
}

// Flush writes out the messages in the send buffer (and the committed rest
// of a TrySend). With a write deadline it gives up when that passes (an
// error matching ErrTimeout; what was written stays written, the rest held).
func (e *End) Flush() error {
	return e.call(func(h *C.tubo_end, cerr **C.tubo_error) C.int {
		if d := e.writeDeadline; !d.IsZero() {
			return C.tubo_end_flush_timeout(h, deadlineMs(d), cerr)
		}
		return C.tubo_end_flush(h, cerr)
	})
}

// Unsent returns the bytes the End has accepted but not yet written: the
// committed rest of a message and the send buffer (0 for a read end).
func (e *End) Unsent() int {
	return endValue(e, 0, func(h *C.tubo_end) int { return int(C.tubo_end_unsent_bytes(h)) })
}

// SetSendBufferSize makes Send store messages in a buffer of capacity bytes
// and write them out when it fills, on Flush or on Close (0: unbuffered, the
// default). Buffered messages not yet flushed are not seen by the reader.
func (e *End) SetSendBufferSize(capacity int) error {
	if capacity < 0 {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: SetSendBufferSize: negative capacity"}
	}
	return e.call(func(h *C.tubo_end, cerr **C.tubo_error) C.int {
		return C.tubo_end_set_send_buffer_size(h, C.size_t(capacity), cerr)
	})
}

// SendBufferSize returns the send buffer's capacity (0: unbuffered).
func (e *End) SendBufferSize() int {
	return endValue(e, 0, func(h *C.tubo_end) int { return int(C.tubo_end_send_buffer_size(h)) })
}
