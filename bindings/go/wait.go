package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// WaitSet is one wait over many ends, processes and pool tasks, as C++'s
// tubo::WaitSet: each member is added under a key of the caller's choosing,
// and Wait returns the keys of the members that are ready: an End with
// something to receive (a message, more of one, or the end of the stream),
// an End added with AddWritable with room to send (or its readers gone), a
// Process that has exited (Wait or TryWait it to reap it), a Task that is
// done (its Result returns at once).
//
// A goroutine in Wait is parked by Go's netpoller and holds no OS thread, so
// a program can watch a hundred workers from one goroutine, or from a
// hundred. Members are watched in place: adding one does not take it (use it
// as usual between waits), closing one removes it from every WaitSet, and
// Close releases the set (a forgotten set keeps its members reachable).
//
// The methods are safe for concurrent use; Waits on one set run one at a time.
type WaitSet struct {
	mu      sync.Mutex // guards everything below; never held while parked
	w       *netWait   // nil once closed
	ends    map[uint64]*End
	procs   map[uint64]*Process
	tasks   map[uint64]*Task
	waitMu  sync.Mutex // one Wait at a time
	keysBuf []C.uint64_t
}

// NewWaitSet makes an empty WaitSet.
func NewWaitSet() (*WaitSet, error) {
	w, err := newNetWait()
	if err != nil {
		return nil, err
	}
	return &WaitSet{w: w, ends: map[uint64]*End{}, procs: map[uint64]*Process{}, tasks: map[uint64]*Task{}}, nil
}

// AddEnd watches a read or duplex End for something to receive, under key.
// Errors: ErrInvalidArgument for a write end or a key in use, ErrClosed for
// a closed End or set.
func (s *WaitSet) AddEnd(e *End, key uint64) error {
	return s.addEnd(e, key, false)
}

// AddWritable watches a write or duplex End for room to send, under key
// (list an End only while it has something to send: it stays ready while
// it has room). Errors as for AddEnd (ErrInvalidArgument for a read end).
func (s *WaitSet) AddWritable(e *End, key uint64) error {
	return s.addEnd(e, key, true)
}

func (s *WaitSet) addEnd(e *End, key uint64, writable bool) error {
	if e == nil {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: WaitSet: nil End"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.free(key); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil || e.closing {
		return closedError("end")
	}
	var cerr *C.tubo_error
	var rc C.int
	if writable {
		rc = C.tubo_wait_set_add_end_writable(s.w.ws, e.h, C.uint64_t(key), &cerr)
	} else {
		rc = C.tubo_wait_set_add_end(s.w.ws, e.h, C.uint64_t(key), &cerr)
	}
	if err := takeError(rc, cerr); err != nil {
		return err
	}
	if e.sets == nil {
		e.sets = map[*WaitSet]uint64{}
	}
	e.sets[s] = key
	s.ends[key] = e
	return nil
}

// AddProcess watches p for its exit, under key. Errors: ErrInvalidArgument
// for a key in use, ErrClosed for a closed Process or set; a reaped one is
// ready at once.
func (s *WaitSet) AddProcess(p *Process, key uint64) error {
	if p == nil {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: WaitSet: nil Process"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.free(key); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil || p.closing {
		return closedError("process")
	}
	var cerr *C.tubo_error
	if err := takeError(C.tubo_wait_set_add_process(s.w.ws, p.h, C.uint64_t(key), &cerr), cerr); err != nil {
		return err
	}
	if p.sets == nil {
		p.sets = map[*WaitSet]uint64{}
	}
	p.sets[s] = key
	s.procs[key] = p
	return nil
}

// AddTask watches the pool task t, under key: ready once t is done (a
// result or an error), and for good after that; a task done already is
// ready at once. The set keeps the task alive, and its done descriptor (C
// tubo_task_fd, made now if the task has none) open, until it is removed or
// the set closed; closing or terminating the pool meanwhile makes the task
// done (see Pool.Terminate), so it is reported then. Errors:
// ErrInvalidArgument for a nil Task, a key in use or a task already in the
// set, ErrClosed for a closed set, ErrSystem when no descriptor is left.
func (s *WaitSet) AddTask(t *Task, key uint64) error {
	if t == nil {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: WaitSet: nil Task"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.free(key); err != nil {
		return err
	}
	var cerr *C.tubo_error
	err := takeError(C.tubo_wait_set_add_task(s.w.ws, t.h, C.uint64_t(key), &cerr), cerr)
	runtime.KeepAlive(t)
	if err != nil {
		return err
	}
	s.tasks[key] = t
	return nil
}

// free checks, with s.mu held, that the set is open and key unused.
func (s *WaitSet) free(key uint64) error {
	if s.w == nil {
		return closedError("wait set")
	}
	if s.ends[key] != nil || s.procs[key] != nil || s.tasks[key] != nil {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: WaitSet: key already in use"}
	}
	return nil
}

// Remove stops watching what was added under key. ErrInvalidArgument if
// nothing is.
func (s *WaitSet) Remove(key uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return closedError("wait set")
	}
	if e := s.ends[key]; e != nil {
		e.mu.Lock()
		delete(e.sets, s)
		s.removeKey(key)
		e.mu.Unlock()
	} else if p := s.procs[key]; p != nil {
		p.mu.Lock()
		delete(p.sets, s)
		s.removeKey(key)
		p.mu.Unlock()
	} else if s.tasks[key] != nil {
		s.removeKey(key)
	} else {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: WaitSet: no member has that key"}
	}
	return nil
}

// removeKey drops key from the C set and the maps (s.mu held, and the
// member's lock for an End or a Process: the C set looks at the member as
// it lets it go).
func (s *WaitSet) removeKey(key uint64) {
	C.tubo_wait_set_remove(s.w.ws, C.uint64_t(key), nil)
	delete(s.ends, key)
	delete(s.procs, key)
	delete(s.tasks, key)
}

// forgetEnd removes e, which is being closed, from the set (without e.mu
// held by the caller).
func (s *WaitSet) forgetEnd(e *End) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, m := range s.ends {
		if m == e && s.w != nil {
			e.mu.Lock()
			s.removeKey(key)
			e.mu.Unlock()
		}
	}
}

// forgetProcess removes p, which is being closed, from the set (without
// p.mu held by the caller).
func (s *WaitSet) forgetProcess(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, m := range s.procs {
		if m == p && s.w != nil {
			p.mu.Lock()
			s.removeKey(key)
			p.mu.Unlock()
		}
	}
}

// Len returns the number of members.
func (s *WaitSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ends) + len(s.procs) + len(s.tasks)
}

// Wait waits until at least one member is ready and returns the keys of the
// ready ones, in increasing order; or until ctx is done (ctx.Err()). Nothing
// is received, sent or reaped. An empty set waits for ctx. Close unblocks it
// (ErrClosed).
func (s *WaitSet) Wait(ctx context.Context) ([]uint64, error) {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	if w == nil {
		return nil, closedError("wait set")
	}
	var keys []uint64
	err := w.wait(ctx, time.Time{}, "wait set", func() (bool, error) {
		var err error
		keys, err = s.readyNow()
		return len(keys) > 0, err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys, nil
}

// readyNow asks the C set, without waiting, which members are ready; their
// Ends and Processes are locked meanwhile (in address order), since the C
// set reads their state (a Task needs no lock: the set holds its own
// reference and reads only its descriptor).
func (s *WaitSet) readyNow() ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return nil, closedError("wait set")
	}
	n := len(s.ends) + len(s.procs) + len(s.tasks)
	if n == 0 {
		return nil, nil
	}
	locks := make([]sync.Locker, 0, len(s.ends)+len(s.procs))
	for _, e := range s.ends {
		locks = append(locks, &e.mu)
	}
	for _, p := range s.procs {
		locks = append(locks, &p.mu)
	}
	sort.Slice(locks, func(i, j int) bool {
		return uintptr(unsafe.Pointer(locks[i].(*sync.Mutex))) < uintptr(unsafe.Pointer(locks[j].(*sync.Mutex)))
	})
	for _, l := range locks {
		l.Lock()
	}
	defer func() {
		for _, l := range locks {
			l.Unlock()
		}
	}()
	if cap(s.keysBuf) < n {
		s.keysBuf = make([]C.uint64_t, n)
	}
	return s.w.ready(s.keysBuf[:n])
}

// Close releases the set; its members stay open. A Wait in progress returns
// ErrClosed. Closing twice returns nil.
func (s *WaitSet) Close() error {
	s.mu.Lock()
	w := s.w
	if w == nil {
		s.mu.Unlock()
		return nil
	}
	s.w = nil
	for _, e := range s.ends {
		e.mu.Lock()
		delete(e.sets, s)
		e.mu.Unlock()
	}
	for _, p := range s.procs {
		p.mu.Lock()
		delete(p.sets, s)
		p.mu.Unlock()
	}
	s.ends, s.procs, s.tasks = nil, nil, nil
	s.mu.Unlock()
	w.wake() // returns once no Wait runs on it
	w.free()
	return nil
}

// WaitEnds waits until at least one end of recv has something to receive (a
// message, or the end of the stream), or one end of send can make progress
// sending without blocking (room in its pipe, or its readers gone: see
// PollWrite), or ctx is done (then it returns ctx.Err()). It returns the
// ready ends of each list, in the lists' order. Nothing is received or sent.
//
// So one goroutine can feed many workers: WaitEnds reports an End writable,
// TrySend offers it the next message, and so on. A writable End stays ready
// while it has room: list only the ends that have something to send.
//
// Each End may appear once in all (a descriptor is watched one way per
// wait); a closed End, a read end in send or a write end in recv is an
// error. It is a WaitSet made for one wait: to wait on the same ends again
// and again, keep a WaitSet.
func WaitEnds(ctx context.Context, recv, send []*End) (readyRecv, readySend []*End, err error) {
	s, err := NewWaitSet()
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	all := append(append(make([]*End, 0, len(recv)+len(send)), recv...), send...)
	for i, e := range all {
		if i < len(recv) {
			err = s.AddEnd(e, uint64(i))
		} else {
			err = s.AddWritable(e, uint64(i))
		}
		if err != nil {
			if e != nil && s.hasEnd(e, i) {
				return nil, nil, &Error{Code: CodeInvalidArgument, Message: "tubo: WaitEnds: an End is listed twice"}
			}
			return nil, nil, err
		}
	}
	keys, err := s.Wait(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		if int(k) < len(recv) {
			readyRecv = append(readyRecv, all[k])
		} else {
			readySend = append(readySend, all[k])
		}
	}
	return readyRecv, readySend, nil
}

// hasEnd reports whether e is already a member under a key below n.
func (s *WaitSet) hasEnd(e *End, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.ends {
		if m == e && int(k) < n {
			return true
		}
	}
	return false
}
