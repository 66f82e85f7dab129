package tubo

/*
#include <stdlib.h>
#include "tubo.h"
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// PoolStart says how a pool starts each of its workers (C++ WorkerStart, C
// tubo_worker_start): PoolSelf or PoolCommand, then the fields. Every worker
// gets the channels "tasks" and "results" (contract 4), dies with this
// process and leads its own process group. There is no fork start method in
// Go: a Go process must never fork.
type PoolStart struct {
	self   bool
	target string // the entry (self) or the program (command)
	args   []string

	// Env holds "NAME=value" entries set in each worker's environment, on top
	// of this process's.
	Env []string
	// Dir is the directory each worker runs in ("": this process's).
	Dir string
	// CaptureStderr makes the pool copy each worker's standard error to this
	// process's as it arrives and keep its last 4 KiB, quoted in the error of
	// a worker that died before it was ready. Off: workers inherit it.
	CaptureStderr bool
}

// PoolSelf is the self start method: this program re-executed into the entry
// point entry (registered with RegisterEntry), which usually calls
// ServePoolTasks, with args as its arguments.
func PoolSelf(entry string, args ...string) PoolStart {
	return PoolStart{self: true, target: entry, args: append([]string(nil), args...)}
}

// PoolCommand is the exec start method: program (a path, or a name looked up
// in PATH) with args, any program that follows contract 4.
func PoolCommand(program string, args ...string) PoolStart {
	return PoolStart{target: program, args: append([]string(nil), args...)}
}

// PoolOptions are a pool's options; the zero value of each field means its
// default (those of C++ PoolOptions).
type PoolOptions struct {
	// Workers is the number of workers; 0: one per CPU this process may run on.
	Workers int
	// MaxInFlight bounds the tasks submitted and not yet done (the window):
	// Submit waits for room. 0: 4 * Workers * (1 + prefetch), with 15 for
	// the automatic prefetch.
	MaxInFlight int
	// Prefetch is how many tasks a worker is sent beyond the one it runs
	// (read ahead, started only after the previous result); 0: the
	// default, automatic (as many as fit in about a millisecond of the
	// recent tasks' running time, 1 to 15); negative: none (each task waits
	// for the previous result).
	Prefetch int
	// MaxTasksPerWorker recycles a worker after that many tasks; 0: no limit.
	MaxTasksPerWorker int
	// MaxWorkerRSS recycles a worker whose resident memory is above that many
	// bytes after a task; 0: no ceiling.
	MaxWorkerRSS int64
	// Retries is how many times a task whose worker died is run again on
	// another worker before it fails with ErrWorkerDied (idempotent work only).
	Retries int
	// TaskTimeout fails a task running longer (ErrTimeout; its worker's
	// process group is killed and the worker replaced); 0: none. Counted in
	// whole milliseconds, at least 1.
	TaskTimeout time.Duration
	// MaxStartFailures is how many consecutive workers may die before they
	// are ready before the pool gives up (ErrSpawn); 0: the default, 5.
	MaxStartFailures int
	// RestartDelay is the delay before a restart after a start failure,
	// doubled each time up to MaxRestartDelay; 0: the defaults (10 ms, 1 s).
	RestartDelay, MaxRestartDelay time.Duration
}

// Pool is a pool of worker processes serving byte tasks by contract 4, over
// the C ABI (C++ Pool, C tubo_pool). A task whose worker fails it gives
// ErrTaskFailed with the worker's message; a worker that dies fails exactly
// the task it was running with ErrWorkerDied (the message names the task,
// the worker's pid and its exit status), the tasks queued behind it run
// elsewhere, and the worker is replaced.
//
// Its methods may be called from any goroutine. Close or Terminate it: the
// pool holds a goroutine and its workers until then. Waiting (Submit on a
// full window, Task.Result, Map) parks the goroutine on Go's netpoller: no
// OS thread is held.
type Pool struct {
	mu     sync.RWMutex // guards h (write-locked to close or free it)
	h      *C.tubo_pool
	window int // the resolved MaxInFlight, Map's window

	// The notification: the dispatcher closes tick and makes a new one each
	// time the pool's notify descriptor says a task is done; a waiter takes
	// tick, then checks, then waits on it. Once stopped, tick stays closed.
	tickMu     sync.Mutex
	tick       chan struct{}
	stopped    bool
	notify     *netWait
	dispatched chan struct{} // closed when the dispatcher returned
}

// NewPool starts a pool whose workers start as start says. It returns before
// the workers are ready; tasks submitted meanwhile wait for them.
//
// Errors: ErrInvalidArgument for an empty program or entry, a negative
// count, or options that disagree (the message names them); ErrSystem.
func NewPool(start PoolStart, opts PoolOptions) (*Pool, error) {
	if versionErr != nil {
		return nil, versionErr
	}
	cs, err := newWorkerStart(start)
	if err != nil {
		return nil, err
	}
	defer C.tubo_worker_start_free(cs)
	co, err := newPoolOptions(opts)
	if err != nil {
		return nil, err
	}
	defer C.tubo_pool_options_free(co)
	var h *C.tubo_pool
	var cerr *C.tubo_error
	if err := takeError(C.tubo_pool_new(&h, cs, co, &cerr), cerr); err != nil {
		return nil, err
	}
	notify, err := newFdWait(int(C.tubo_pool_notify_fd(h)), syscall.EPOLLIN)
	if err != nil {
		C.tubo_pool_free(h)
		return nil, err
	}
	p := &Pool{h: h, notify: notify, tick: make(chan struct{}), dispatched: make(chan struct{})}
	p.window = opts.MaxInFlight
	if p.window <= 0 {
		prefetch := opts.Prefetch
		if prefetch == 0 {
			prefetch = 15 // automatic: at most 15
		} else if prefetch < 0 {
			prefetch = 0
		}
		p.window = 4 * int(C.tubo_pool_workers(h)) * (1 + prefetch)
	}
	go p.dispatch(int(C.tubo_pool_notify_fd(h)))
	return p, nil
}

// newWorkerStart is the C start method of s (caller frees it).
func newWorkerStart(s PoolStart) (*C.tubo_worker_start, error) {
	if s.target == "" {
		what := "PoolCommand: program"
		if s.self {
			what = "PoolSelf: entry"
		}
		return nil, &Error{Code: CodeInvalidArgument, Message: "tubo: " + what + " is empty (use PoolSelf or PoolCommand)"}
	}
	var cs *C.tubo_worker_start
	var cerr *C.tubo_error
	target := C.CString(s.target)
	defer C.free(unsafe.Pointer(target))
	rc := C.tubo_worker_start_new_exec(&cs, target, &cerr)
	if s.self {
		rc = C.tubo_worker_start_new_self(&cs, target, &cerr)
	}
	if err := takeError(rc, cerr); err != nil {
		return nil, err
	}
	set := func(f func(cerr **C.tubo_error) C.int) error {
		var cerr *C.tubo_error
		return takeError(f(&cerr), cerr)
	}
	var err error
	for _, a := range s.args {
		if err == nil {
			err = withCString(a, func(ca *C.char) error {
				return set(func(cerr **C.tubo_error) C.int { return C.tubo_worker_start_arg(cs, ca, cerr) })
			})
		}
	}
	for _, kv := range s.Env {
		if err != nil {
			break
		}
		name, value, ok := cutEnv(kv)
		if !ok {
			err = &Error{Code: CodeInvalidArgument, Message: "tubo: PoolStart.Env: \"" + kv + "\" is not NAME=value"}
			break
		}
		err = withCString(name, func(cn *C.char) error {
			return withCString(value, func(cv *C.char) error {
				return set(func(cerr **C.tubo_error) C.int { return C.tubo_worker_start_env_set(cs, cn, cv, cerr) })
			})
		})
	}
	if err == nil && s.Dir != "" {
		err = withCString(s.Dir, func(cd *C.char) error {
			return set(func(cerr **C.tubo_error) C.int { return C.tubo_worker_start_working_directory(cs, cd, cerr) })
		})
	}
	if err == nil && s.CaptureStderr {
		err = set(func(cerr **C.tubo_error) C.int { return C.tubo_worker_start_capture_stderr(cs, 1, cerr) })
	}
	if err != nil {
		C.tubo_worker_start_free(cs)
		return nil, err
	}
	return cs, nil
}

// cutEnv splits "NAME=value" (NAME not empty).
func cutEnv(kv string) (name, value string, ok bool) {
	for i := 1; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return "", "", false
}

// withCString calls f with s as a C string, freed after.
func withCString(s string, f func(*C.char) error) error {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return f(cs)
}

// newPoolOptions is the C options of o (caller frees them); a value the C
// ABI refuses gives its error, which names the option.
func newPoolOptions(o PoolOptions) (*C.tubo_pool_options, error) {
	var co *C.tubo_pool_options
	var cerr *C.tubo_error
	if err := takeError(C.tubo_pool_options_new(&co, &cerr), cerr); err != nil {
		return nil, err
	}
	ms := func(d time.Duration) int64 {
		if d > 0 && d < time.Millisecond {
			return 1
		}
		return d.Milliseconds()
	}
	type setting struct {
		option C.int
		value  int64
		set    bool
	}
	prefetch := int64(o.Prefetch)
	if prefetch < 0 {
		prefetch = 0
	}
	settings := []setting{
		{C.TUBO_POOL_WORKERS, int64(o.Workers), true},
		{C.TUBO_POOL_MAX_IN_FLIGHT, int64(o.MaxInFlight), true},
		{C.TUBO_POOL_PREFETCH, prefetch, o.Prefetch != 0},
		{C.TUBO_POOL_MAX_TASKS_PER_WORKER, int64(o.MaxTasksPerWorker), true},
		{C.TUBO_POOL_MAX_WORKER_RSS_BYTES, o.MaxWorkerRSS, true},
		{C.TUBO_POOL_RETRIES, int64(o.Retries), true},
		{C.TUBO_POOL_TASK_TIMEOUT_MS, ms(o.TaskTimeout), o.TaskTimeout != 0},
		{C.TUBO_POOL_MAX_START_FAILURES, int64(o.MaxStartFailures), o.MaxStartFailures != 0},
		{C.TUBO_POOL_RESTART_DELAY_MS, ms(o.RestartDelay), o.RestartDelay != 0},
		{C.TUBO_POOL_MAX_RESTART_DELAY_MS, ms(o.MaxRestartDelay), o.MaxRestartDelay != 0},
	}
	for _, s := range settings {
		if !s.set {
			continue
		}
		if err := takeError(C.tubo_pool_options_set(co, s.option, C.int64_t(s.value), &cerr), cerr); err != nil {
			C.tubo_pool_options_free(co)
			return nil, err
		}
	}
	return co, nil
}

// dispatch turns the pool's notify descriptor (an eventfd) into ticks until
// the pool is closed.
func (p *Pool) dispatch(fd int) {
	defer close(p.dispatched)
	var buf [8]byte
	for {
		err := p.notify.wait(context.Background(), time.Time{}, "pool notification", func() (bool, error) {
			_, err := syscall.Read(fd, buf[:])
			if err == syscall.EAGAIN || err == syscall.EINTR {
				return false, nil
			}
			return err == nil, err
		})
		p.tickMu.Lock()
		close(p.tick)
		if err != nil {
			p.stopped = true
			p.tickMu.Unlock()
			return
		}
		p.tick = make(chan struct{})
		p.tickMu.Unlock()
	}
}

// nextTick is the channel closed at the next task done (closed already once
// the pool is stopped).
func (p *Pool) nextTick() <-chan struct{} {
	p.tickMu.Lock()
	defer p.tickMu.Unlock()
	return p.tick
}

// waitUntil parks until cond() holds or ctx is done (its error). cond is
// checked after each task done.
func (p *Pool) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		tick := p.nextTick()
		if cond() {
			return nil
		}
		select {
		case <-tick:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Submit submits a task (its bytes are copied) and returns its handle,
// waiting for room in the window while ctx allows.
//
// Errors: ctx's error if it is done first (nothing was submitted);
// ErrClosed after Close or Terminate; ErrSpawn once the pool gave up
// starting workers.
func (p *Pool) Submit(ctx context.Context, task []byte) (*Task, error) {
	for {
		tick := p.nextTick()
		t, err := p.trySubmit(task)
		if !errors.Is(err, ErrTimeout) {
			return t, err
		}
		select {
		case <-tick:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// trySubmit submits without waiting: ErrTimeout when the window is full.
func (p *Pool) trySubmit(task []byte) (*Task, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.h == nil {
		return nil, closedError("pool")
	}
	var data unsafe.Pointer
	if len(task) > 0 {
		data = unsafe.Pointer(&task[0])
	}
	var ct *C.tubo_task
	var cerr *C.tubo_error
	if err := takeError(C.tubo_pool_submit(&ct, p.h, data, C.size_t(len(task)), 0, &cerr), cerr); err != nil {
		return nil, err
	}
	t := &Task{h: ct, pool: p, id: uint64(C.tubo_task_id(ct))}
	runtime.SetFinalizer(t, func(t *Task) { C.tubo_task_free(t.h) })
	return t, nil
}

// Close finishes the tasks submitted, lets the workers exit and reaps them,
// then releases the pool; later calls (and Submit) fail with ErrClosed.
// Tasks stay valid. The wait for the last tasks holds an OS thread.
func (p *Pool) Close() error {
	return p.shutdown(func(h *C.tubo_pool) error {
		var cerr *C.tubo_error
		return takeError(C.tubo_pool_close(h, &cerr), cerr)
	})
}

// Terminate stops now: tasks not done fail with ErrCancelled, every worker
// and its process group is killed and reaped, and the pool is released;
// later calls (and Submit) fail with ErrClosed.
func (p *Pool) Terminate() error {
	return p.shutdown(func(h *C.tubo_pool) error {
		C.tubo_pool_terminate(h)
		return nil
	})
}

func (p *Pool) shutdown(stop func(h *C.tubo_pool) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return closedError("pool")
	}
	err := stop(p.h)
	// Every task is done now: wake their waiters for good, then free.
	p.notify.wake()
	<-p.dispatched
	p.notify.free()
	C.tubo_pool_free(p.h)
	p.h = nil
	return err
}

// Workers is the number of workers the pool keeps running (0 once closed).
func (p *Pool) Workers() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.h == nil {
		return 0
	}
	return int(C.tubo_pool_workers(p.h))
}

// WorkerPids gives the pids of the workers running now (ready or starting).
func (p *Pool) WorkerPids() []int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.h == nil {
		return nil
	}
	for {
		n := C.tubo_pool_worker_pids(p.h, nil, 0)
		if n == 0 {
			return nil
		}
		pids := make([]C.int, n+4)
		got := C.tubo_pool_worker_pids(p.h, &pids[0], C.size_t(len(pids)))
		if int(got) <= len(pids) {
			out := make([]int, got)
			for i := range out {
				out[i] = int(pids[i])
			}
			return out
		}
	}
}

// Task is a submitted task (a future; C++ Task, C tubo_task). It stays valid
// after its pool is closed; its methods may be called from any goroutine.
type Task struct {
	h    *C.tubo_task
	pool *Pool
	id   uint64
}

// ID is the task's id within its pool (never 0).
func (t *Task) ID() uint64 { return t.id }

// Done reports whether the task has its final outcome.
func (t *Task) Done() bool {
	done := C.tubo_task_done(t.h) == 1
	runtime.KeepAlive(t)
	return done
}

// Result waits until the task is done, while ctx allows, and returns its
// outcome; every call returns the same. Errors: ErrTaskFailed (the worker's
// message), ErrWorkerDied (naming the task, the worker's pid and its exit
// status), ErrTimeout (the task's timeout), ErrCancelled (Cancel,
// Terminate), ErrSpawn (the pool could not keep workers running); ctx's
// error if it is done first.
func (t *Task) Result(ctx context.Context) ([]byte, error) {
	if err := t.pool.waitUntil(ctx, t.Done); err != nil {
		return nil, err
	}
	var b *C.tubo_bytes
	var cerr *C.tubo_error
	err := takeError(C.tubo_task_result(&b, t.h, &cerr), cerr)
	runtime.KeepAlive(t)
	if err != nil {
		return nil, err
	}
	defer C.tubo_bytes_free(b)
	return C.GoBytes(unsafe.Pointer(b.data), C.int(b.len)), nil
}

// Cancel cancels the task if no worker was sent it yet (it then fails with
// ErrCancelled) and reports whether it did.
func (t *Task) Cancel() bool {
	ok := C.tubo_task_cancel(t.h) == 1
	runtime.KeepAlive(t)
	return ok
}
