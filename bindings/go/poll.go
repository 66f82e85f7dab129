package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"time"
)

// Waiting on one End: for something to receive (Poll, PollContext) or for
// room to send (PollWrite, PollWriteContext). Waiting on many is WaitEnds
// (wait.go).

// Poll waits up to timeout for something to receive: it returns true if a
// receive can make progress without waiting (a message, more of one, or the
// end of the stream). A zero timeout only looks; a negative one waits forever.
func (e *End) Poll(timeout time.Duration) (bool, error) {
	return withEnd(e, func(h *C.tubo_end) (bool, error) {
		var ready C.int
		var cerr *C.tubo_error
		if err := takeError(C.tubo_end_poll(&ready, h, durationMs(timeout), &cerr), cerr); err != nil {
			return false, err
		}
		return ready != 0, nil
	})
}

// PollContext waits until there is something to receive (then returns nil)
// or ctx is done (then returns ctx.Err()). Nothing is received.
func (e *End) PollContext(ctx context.Context) error {
	return e.pollContext(ctx, func(ws *C.tubo_wait_set, h *C.tubo_end, key C.uint64_t, cerr **C.tubo_error) C.int {
		return C.tubo_wait_set_add_end(ws, h, key, cerr)
	})
}

// PollWrite waits up to timeout until a write or duplex end can make
// progress sending without blocking (room in the pipe), or its readers are
// gone (a send then fails with ErrPeerClosed). A zero timeout only looks; a
// negative one waits forever.
func (e *End) PollWrite(timeout time.Duration) (bool, error) {
	return withEnd(e, func(h *C.tubo_end) (bool, error) {
		var ws *C.tubo_wait_set
		var cerr *C.tubo_error
		if err := takeError(C.tubo_wait_set_new(&ws, &cerr), cerr); err != nil {
			return false, err
		}
		defer C.tubo_wait_set_free(ws)
		if err := takeError(C.tubo_wait_set_add_end_writable(ws, h, 0, &cerr), cerr); err != nil {
			return false, err
		}
		var key C.uint64_t
		var n C.size_t
		if err := takeError(C.tubo_wait_set_wait(&n, ws, &key, 1, durationMs(timeout), &cerr), cerr); err != nil {
			return false, err
		}
		return n > 0, nil
	})
}

// PollWriteContext waits until the end can make progress sending (see
// PollWrite), then returns nil, or until ctx is done (returning ctx.Err()).
func (e *End) PollWriteContext(ctx context.Context) error {
	return e.pollContext(ctx, func(ws *C.tubo_wait_set, h *C.tubo_end, key C.uint64_t, cerr **C.tubo_error) C.int {
		return C.tubo_wait_set_add_end_writable(ws, h, key, cerr)
	})
}

// pollContext waits (waitContext, wait.go) until the End's handle, put in
// the wait set by add to be read or written, is ready, or ctx is done.
func (e *End) pollContext(ctx context.Context, add func(ws *C.tubo_wait_set, h *C.tubo_end, key C.uint64_t, cerr **C.tubo_error) C.int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	return waitContext(ctx, func(ws *C.tubo_wait_set, key C.uint64_t) error {
		var cerr *C.tubo_error
		return takeError(add(ws, e.h, key, &cerr), cerr)
	})
}
