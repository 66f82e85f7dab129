package tubo

import (
	"context"
	"time"
)

// Waiting on one End: for something to receive (Poll, PollContext) or for
// room to send (PollWrite, PollWriteContext), parked on the netpoller
// (netpoll.go). Waiting on many is a WaitSet or WaitEnds (wait.go).

// Poll waits up to timeout for something to receive: it returns true if a
// receive can make progress without waiting (a message, more of one, or the
// end of the stream). A zero timeout only looks; a negative one waits forever.
// Close unblocks it (ErrClosed).
func (e *End) Poll(timeout time.Duration) (bool, error) {
	return e.pollFor(false, timeout)
}

// PollContext waits until there is something to receive (then returns nil)
// or ctx is done (then returns ctx.Err()). Nothing is received. Close
// unblocks it (ErrClosed).
func (e *End) PollContext(ctx context.Context) error {
	return e.pollWait(ctx, false, time.Time{})
}

// PollWrite waits up to timeout until a write or duplex end can make
// progress sending without blocking (room in the pipe), or its readers are
// gone (a send then fails with ErrPeerClosed). A zero timeout only looks; a
// negative one waits forever. Close unblocks it (ErrClosed).
func (e *End) PollWrite(timeout time.Duration) (bool, error) {
	return e.pollFor(true, timeout)
}

// PollWriteContext waits until the end can make progress sending (see
// PollWrite), then returns nil, or until ctx is done (returning ctx.Err()).
func (e *End) PollWriteContext(ctx context.Context) error {
	return e.pollWait(ctx, true, time.Time{})
}

// pollFor is Poll (write false) and PollWrite (write true): a wait with a
// timeout, whose passing is a false result rather than an error.
func (e *End) pollFor(write bool, timeout time.Duration) (bool, error) {
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	err := e.pollWait(context.Background(), write, deadline)
	if isCTimeout(err) {
		return false, nil
	}
	return err == nil, err
}

// pollWait parks until the End is ready to receive (write false) or to send
// (write true), ctx is done, or deadline (zero: none) passes.
func (e *End) pollWait(ctx context.Context, write bool, deadline time.Time) error {
	side := &e.rmu
	what := "poll"
	if write {
		side = &e.wmu
		what = "poll for writing"
	}
	side.Lock()
	defer side.Unlock()
	w, _, err := e.waiter(write)
	if err != nil {
		return err
	}
	return w.wait(ctx, deadline, what, func() (bool, error) { return e.readyNow(write) })
}
