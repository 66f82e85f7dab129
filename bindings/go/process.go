package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// ExitStatus is how a child ended: it exited with a code, or a signal killed
// it (contract 3 of the design).
type ExitStatus struct {
	exited   bool
	code     int
	signaled bool
	signal   syscall.Signal
	core     bool
}

// Exited reports whether the child exited normally (see ExitCode).
func (s ExitStatus) Exited() bool { return s.exited }

// ExitCode returns the exit code (0-255), or -1 if a signal killed the child
// (the convention of os.ProcessState.ExitCode).
func (s ExitStatus) ExitCode() int {
	if !s.exited {
		return -1
	}
	return s.code
}

// Signaled reports whether a signal killed the child (see Signal).
func (s ExitStatus) Signaled() bool { return s.signaled }

// Signal returns the signal that killed the child, or 0.
func (s ExitStatus) Signal() syscall.Signal { return s.signal }

// CoreDumped reports whether the child dumped core when the signal killed it.
func (s ExitStatus) CoreDumped() bool { return s.core }

// ReturnCode returns the signed return code (contract 3): the exit code, or
// minus the signal, as Python's subprocess returncode (C++ returncode(), C
// tubo_process_returncode).
func (s ExitStatus) ReturnCode() int {
	if s.signaled {
		return -int(s.signal)
	}
	return s.code
}

// Success reports whether the child exited with code 0.
func (s ExitStatus) Success() bool { return s.exited && s.code == 0 }

// String is "exit status N" or "signal: NAME" (as os.ProcessState prints).
func (s ExitStatus) String() string {
	if s.signaled {
		msg := "signal: " + s.signal.String()
		if s.core {
			msg += " (core dumped)"
		}
		return msg
	}
	return fmt.Sprintf("exit status %d", s.code)
}

// Process is the one owner of a child started by Cmd.Spawn. Wait reaps it;
// Close stops (by its stop sequence) and reaps a child that still runs, so a
// closed Process never leaves a zombie or an unowned child. Detach is the
// only way to leave a child running.
//
// Kill, Terminate, Signal and Pid may be called from any goroutine, also
// while another one is in Wait. A goroutine in Wait is parked on Go's
// netpoller (the child's pidfd), holding no OS thread.
type Process struct {
	waitMu  sync.Mutex // held by Wait, Detach and Close's free: one waiter, and no free under it
	mu      sync.Mutex // guards what follows; held for short calls only
	h       *C.tubo_process
	pid     int
	status  *ExitStatus
	closing bool                // Close or Detach has begun: no new wait, no new WaitSet
	w       *netWait            // the wait on the child's exit, made by the first Wait
	sets    map[*WaitSet]uint64 // the WaitSets watching this Process, and its key there
	// The watch of CommandContext's context (command_context.go), nil
	// without one: stopped once the child is reaped, closed or detached.
	watch *contextWatch
}

func newProcess(h *C.tubo_process) *Process {
	p := &Process{h: h, pid: int(C.tubo_process_pid(h))}
	// A backstop for a Process the program forgot to close: the stop sequence
	// can take seconds, so it runs on its own goroutine, not the finalizer's.
	runtime.SetFinalizer(p, func(p *Process) {
		if p.w != nil {
			p.w.free() // its descriptor's os.File has a finalizer of its own
		}
		go C.tubo_process_free(p.h)
	})
	return p
}

// Pid returns the child's process id (kept after it was reaped).
func (p *Process) Pid() int { return p.pid }

// Wait waits for the child to exit, reaps it and returns its exit status;
// once reaped, it returns the same status again.
//
// When ctx is done first, Wait returns ctx.Err() at once and leaves the child
// running and owned by p: the caller decides (Kill then Wait again, or Close,
// which runs the stop sequence). Close during a Wait makes it return
// ErrClosed. Waiting never polls and holds no OS thread: the goroutine is
// parked on the child's pidfd by Go's netpoller.
func (p *Process) Wait(ctx context.Context) (ExitStatus, error) {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	if st, ok := p.Status(); ok {
		return st, nil
	}
	w, err := p.waiter()
	if err != nil {
		return ExitStatus{}, err
	}
	var st ExitStatus
	err = w.wait(ctx, time.Time{}, "process", func() (done bool, err error) {
		st, done, err = p.TryWait()
		return done, err
	})
	return st, err
}

// waiter returns p's wait on its child's exit, made on first use.
func (p *Process) waiter() (*netWait, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil || p.closing {
		return nil, closedError("process")
	}
	if p.w == nil {
		pidfd := int(C.tubo_process_pidfd(p.h))
		if pidfd < 0 { // reaped already (Status has it) or detached
			return nil, closedError("process")
		}
		w, err := newFdWait(pidfd, syscall.EPOLLIN)
		if err != nil {
			return nil, err
		}
		p.w = w
	}
	return p.w, nil
}

// beginClose starts closing or detaching p: no new wait or WaitSet takes
// it, a goroutine in Wait is woken (ErrClosed) and p leaves its WaitSets.
// Never with p.mu held (a waiter's try takes it).
func (p *Process) beginClose() {
	p.mu.Lock()
	p.closing = true
	w, sets := p.w, p.sets
	p.sets = nil
	p.mu.Unlock()
	for s := range sets {
		s.forgetProcess(p)
	}
	if w != nil {
		w.wake()
	}
}

// TryWait reaps the child if it has exited, without blocking: done reports
// whether it was (then status is its exit status).
func (p *Process) TryWait() (status ExitStatus, done bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != nil {
		return *p.status, true, nil
	}
	if p.h == nil {
		return ExitStatus{}, false, closedError("process")
	}
	var cerr *C.tubo_error
	rc := C.tubo_process_try_wait(nil, p.h, &cerr)
	if rc == C.TUBO_E_TIMEOUT {
		C.tubo_error_free(cerr)
		return ExitStatus{}, false, nil
	}
	if err := takeError(rc, cerr); err != nil {
		return ExitStatus{}, false, err
	}
	st := ExitStatus{
		exited:   C.tubo_process_exited(p.h) != 0,
		code:     int(C.tubo_process_exit_code(p.h)),
		signaled: C.tubo_process_signaled(p.h) != 0,
		signal:   syscall.Signal(C.tubo_process_term_signal(p.h)),
		core:     C.tubo_process_core_dumped(p.h) != 0,
	}
	p.status = &st
	p.watch.stop()
	return st, true, nil
}

// Status returns the exit status if the child has been reaped.
func (p *Process) Status() (ExitStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status == nil {
		return ExitStatus{}, false
	}
	return *p.status, true
}

// Signal sends sig to the child through its pidfd, so never to another
// process that reused its pid. It does nothing and returns nil once the child
// has been reaped. ErrClosed after Close or Detach; ErrSystem for a bad
// signal number.
func (p *Process) Signal(sig syscall.Signal) error {
	return p.call(func(h *C.tubo_process, cerr **C.tubo_error) C.int {
		return C.tubo_process_signal(h, C.int(sig), cerr)
	})
}

// Terminate sends SIGTERM.
func (p *Process) Terminate() error { return p.Signal(syscall.SIGTERM) }

// Kill sends SIGKILL.
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// SignalGroup sends sig to every process of the child's process group: the
// child and what it started in its group. Only for a child started with
// NewProcessGroup, and only until it is reaped (after that its group id could
// name another group): ErrInvalidArgument if it does not lead its own group,
// ErrClosed once reaped, closed or detached. Nil if nobody is left in the group.
func (p *Process) SignalGroup(sig syscall.Signal) error {
	return p.call(func(h *C.tubo_process, cerr **C.tubo_error) C.int {
		return C.tubo_process_signal_group(h, C.int(sig), cerr)
	})
}

// LeadsGroup reports whether the child leads its own process group (NewProcessGroup).
func (p *Process) LeadsGroup() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.h != nil && C.tubo_process_leads_group(p.h) != 0
}

// Detach leaves the child running without an owner (the library reaps it in
// the background when it exits). p is closed afterwards, and a Wait in
// progress returns ErrClosed. If the library cannot create its reaper
// thread (RLIMIT_NPROC), Detach returns ErrSystem and p still owns its child.
func (p *Process) Detach() error {
	if err := p.call(func(h *C.tubo_process, cerr **C.tubo_error) C.int { return C.TUBO_OK }); err != nil {
		return err
	}
	p.beginClose()
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	if err := p.call(func(h *C.tubo_process, cerr **C.tubo_error) C.int {
		return C.tubo_process_detach(h, cerr)
	}); err != nil {
		p.mu.Lock()
		p.closing = false // still the owner: it can be waited for again
		if p.w != nil {
			p.w.free()
			p.w = nil
		}
		p.mu.Unlock()
		return err
	}
	return p.free()
}

// SetStopSequence sets what Close does to a child that still runs: wait up
// to grace for it to exit by itself (negative: forever), then send sig (0:
// none) and wait up to timeout, then SIGKILL; always reap. The default is
// 1 s, SIGTERM, 1 s.
func (p *Process) SetStopSequence(grace time.Duration, sig syscall.Signal, timeout time.Duration) error {
	return p.call(func(h *C.tubo_process, cerr **C.tubo_error) C.int {
		if rc := C.tubo_process_set_stop_grace(h, durationMs(grace), cerr); rc != C.TUBO_OK {
			return rc
		}
		if rc := C.tubo_process_set_stop_signal(h, C.int(sig), cerr); rc != C.TUBO_OK {
			return rc
		}
		return C.tubo_process_set_stop_timeout(h, durationMs(timeout), cerr)
	})
}

// Close releases the process: a child that still runs gets the stop sequence
// (see SetStopSequence) and is reaped; a detached one is left alone. A Wait
// in progress returns ErrClosed first. Closing twice returns nil.
func (p *Process) Close() error {
	p.beginClose()
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	return p.free()
}

func (p *Process) free() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil {
		p.w.free()
		p.w = nil
	}
	if p.h != nil {
		C.tubo_process_free(p.h)
		p.h = nil
		runtime.SetFinalizer(p, nil)
	}
	p.watch.stop()
	return nil
}

func (p *Process) call(f func(h *C.tubo_process, cerr **C.tubo_error) C.int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return closedError("process")
	}
	var cerr *C.tubo_error
	return takeError(f(p.h, &cerr), cerr)
}
