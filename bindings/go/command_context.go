package tubo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// This file holds the commands bound to a context (CommandContext,
// SelfContext, as os/exec's CommandContext) and the goroutine that watches
// the context of a started child.

// CommandContext is Command bound to ctx, as exec.CommandContext: Spawn
// starts nothing and returns ctx.Err() if ctx is already done; once the
// child runs, ctx being done before the child is reaped (Wait, TryWait) or
// closed runs the Cmd's Cancel function, SIGKILL by default. Wait then
// reports the signal in the exit status, and Process.ContextErr what the
// context did (os/exec's rules). A ctx that is never done (Done() returns
// nil, as context.Background()) is not watched. A nil ctx is an error that
// Spawn returns.
//
// The watching goroutine ends when the child is reaped, closed or detached,
// or once Cancel (and WaitDelay) has run.
func CommandContext(ctx context.Context, name string, args ...string) *Cmd {
	return Command(name, args...).bindContext(ctx)
}

// SelfContext is Self bound to ctx, as CommandContext is Command bound to it.
func SelfContext(ctx context.Context, entry string, args ...string) *Cmd {
	return Self(entry, args...).bindContext(ctx)
}

func (c *Cmd) bindContext(ctx context.Context) *Cmd {
	if ctx == nil {
		if c.err == nil {
			c.err = &Error{Code: CodeInvalidArgument, Message: "tubo: command " + quote(c.what) + ": nil context"}
		}
		return c
	}
	c.ctx = ctx
	c.cancel = (*Process).Kill
	return c
}

// Cancel sets what is done to the child when the context of CommandContext
// or SelfContext is done before the child is reaped (os/exec's Cmd.Cancel,
// given the started Process): SIGKILL by default; for example
//
//	tubo.CommandContext(ctx, "server").Cancel((*tubo.Process).Terminate).WaitDelay(5 * time.Second)
//
// sends SIGTERM, then SIGKILL 5 s later if the child still runs. A nil
// cancel does nothing when ctx is done (WaitDelay still applies). A Cmd not
// made by CommandContext or SelfContext fails (Spawn returns the error).
//
// The error cancel returns decides what ContextErr reports: nil means the
// child was interrupted (ContextErr is ctx.Err()); one matching
// os.ErrProcessDone or ErrClosed means there was nothing left to cancel
// (ContextErr is nil); any other is wrapped ("tubo: canceling process N: ...").
func (c *Cmd) Cancel(cancel func(p *Process) error) *Cmd {
	if c.err == nil && c.ctx == nil {
		c.err = &Error{Code: CodeInvalidArgument, Message: "tubo: command " + quote(c.what) +
			": Cancel needs a command made by CommandContext or SelfContext"}
	}
	if c.err == nil {
		c.cancel = cancel
	}
	return c
}

// WaitDelay bounds how long a child may outlive its cancellation: if it is
// not reaped d after its context was done (and Cancel ran), it gets SIGKILL
// (os/exec's Cmd.WaitDelay, for the process; Output does not bound its
// reading of the pipes by it). Zero, the default, waits as long as Cancel
// makes the child take. Negative d, or a Cmd not made by CommandContext or
// SelfContext, fails (Spawn returns the error).
func (c *Cmd) WaitDelay(d time.Duration) *Cmd {
	if c.err == nil && c.ctx == nil {
		c.err = &Error{Code: CodeInvalidArgument, Message: "tubo: command " + quote(c.what) +
			": WaitDelay needs a command made by CommandContext or SelfContext"}
	}
	if c.err == nil && d < 0 {
		c.err = &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("tubo: command %s: WaitDelay %v is negative", quote(c.what), d)}
	}
	if c.err == nil {
		c.waitDelay = d
	}
	return c
}

// watchContext starts the goroutine that watches c's context for the child
// p just started, as os/exec does: only when the context can be done and
// there is something to do then.
func (c *Cmd) watchContext(p *Process) {
	if c.ctx == nil || c.ctx.Done() == nil || (c.cancel == nil && c.waitDelay == 0) {
		return
	}
	w := &contextWatch{reaped: make(chan struct{}), finished: make(chan struct{})}
	p.watch = w // before p is shared: no other goroutine sees p yet
	go w.run(c.ctx, p, c.cancel, c.waitDelay)
}

// contextWatch is the state of the goroutine watching a child's context.
type contextWatch struct {
	reaped   chan struct{} // closed by stop: the child was reaped, closed or detached
	stopOnce sync.Once
	finished chan struct{} // closed when the goroutine returns
	mu       sync.Mutex
	err      error // what ContextErr reports
}

// stop tells the watching goroutine that the child is gone (reaped, closed
// or detached): it returns without cancelling anything. It never blocks and
// may be called more than once, and on a nil watch.
func (w *contextWatch) stop() {
	if w != nil {
		w.stopOnce.Do(func() { close(w.reaped) })
	}
}

func (w *contextWatch) run(ctx context.Context, p *Process, cancel func(*Process) error, delay time.Duration) {
	defer close(w.finished)
	select {
	case <-w.reaped:
		return
	case <-ctx.Done():
	}
	select {
	case <-w.reaped: // both were ready: the child is gone, nothing to cancel
		return
	default:
	}
	var err error
	if cancel != nil {
		if cancelErr := cancel(p); cancelErr == nil {
			// The child was interrupted: what it does from now on may be due
			// to ctx, even an exit with status 0.
			err = ctx.Err()
		} else if !nothingToSignal(cancelErr) {
			err = fmt.Errorf("tubo: canceling process %d: %w", p.Pid(), cancelErr)
		}
	}
	w.setErr(err)
	if delay == 0 {
		return
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-w.reaped:
		return
	case <-timer.C:
	}
	// As os/exec: a kill that worked changes nothing in what is reported
	// (the exit status shows it); a failed one is reported if nothing was.
	if killErr := p.Kill(); killErr != nil && !nothingToSignal(killErr) && err == nil {
		w.setErr(fmt.Errorf("tubo: killing process %d: %w", p.Pid(), killErr))
	}
}

// nothingToSignal reports whether err says the child was already gone.
func nothingToSignal(err error) bool {
	return errors.Is(err, os.ErrProcessDone) || errors.Is(err, ErrClosed)
}

func (w *contextWatch) setErr(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

// ContextErr reports what the context of CommandContext or SelfContext did
// to the child, by os/exec's rules for Cmd.Wait: nil if the context was not
// done before the child was reaped; ctx.Err() if it was and Cancel
// interrupted the child (so errors.Is(err, context.DeadlineExceeded) after a
// timeout), even when the child then exited with status 0; nil if Cancel
// found the child already gone; an error wrapping Cancel's (or WaitDelay's
// kill's) if that failed. Always nil for a Process not started with a
// context.
//
// Wait does not report it: its error is about waiting, and an exit status
// is not an error (the status of a killed child says "signal: killed"). Once
// the child is reaped (Wait, TryWait), closed or detached, ContextErr waits
// for the watching goroutine to finish, so the answer is final; before, it
// reports what happened so far. Output and CombinedOutput return it when the
// child exited with status 0, as os/exec's Output does.
func (p *Process) ContextErr() error {
	w := p.watch
	if w == nil {
		return nil
	}
	select {
	case <-w.reaped:
		<-w.finished
	default:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
