package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
)

// EndKind is the kind of a pipe end.
type EndKind int

// The kinds of ends: a simplex pipe has a read end and a write end; a duplex
// pipe has two duplex ends.
const (
	ReadEnd   EndKind = C.TUBO_END_READ
	WriteEnd  EndKind = C.TUBO_END_WRITE
	DuplexEnd EndKind = C.TUBO_END_DUPLEX
)

func (k EndKind) String() string {
	switch k {
	case ReadEnd:
		return "read"
	case WriteEnd:
		return "write"
	case DuplexEnd:
		return "duplex"
	}
	return "closed"
}

// End is one end of a pipe: it sends messages (write and duplex ends),
// receives them (read and duplex ends), or both. Messages use the framing of
// CPython's multiprocessing.connection, so any Connection can be the peer.
//
// An End owns its descriptor: Close it when done. The readers of a pipe see
// io.EOF once every write end is closed (or handed to a child that exits).
//
// A forgotten End is closed by a finalizer, as a backstop only, and that
// finalizer never blocks (Go runs all finalizers on one goroutine): an End
// holding nothing unsent is closed at once; one still holding messages (a
// send buffer, or the committed rest of a TrySend) hands the flush and close
// to a new goroutine, which waits for the reader as long as it takes (until
// it reads or closes its end), so the messages are not lost.
//
// Sending without blocking: TrySend, SendTimeout and SendContext either do
// not accept a message (nothing of it is written; offer it again) or accept
// it, writing it whole or committing it: the End keeps the rest and writes it
// before anything else. With PollWrite or WaitEnds, one goroutine can feed
// many slow readers without a goroutine per reader.
type End struct {
	mu      sync.Mutex  // held for one C call at a time, never while parked
	h       *C.tubo_end // nil once closed or consumed
	kind    EndKind
	closing bool // Close or a hand-off has begun: no new waits, no new WaitSet
	// The waits of the receiving side (rmu: one receive or poll at a time,
	// parked on rw) and of the sending side (wmu, ww), each made by the
	// first wait that needs it (end_wait.go). Deadlines are under mu.
	rmu, wmu      sync.Mutex
	rw, ww        *netWait
	recvHot       bool // the last receive took less than recvSpinMs (under rmu)
	readDeadline  time.Time
	writeDeadline time.Time
	sets          map[*WaitSet]uint64 // the WaitSets watching this End, and its key there
	scratch       []byte              // Recv's buffer for small messages, made by the first Recv
	// A slice of the size of a message whose direct receive RecvContext gave
	// up on (the library keeps what arrived): the next receive reuses it.
	pending []byte
}

// This file holds the End and its life (making, closing, the helpers every
// method locks through); its methods live by job: sending in send.go,
// receiving in recv.go, waiting for readiness in poll.go, closing, waking and
// deadlines in end_wait.go, taking a worker's
// channels in channel.go.

func newEnd(h *C.tubo_end) *End {
	e := &End{h: h, kind: EndKind(C.tubo_end_kind_of(h))}
	runtime.SetFinalizer(e, finalizeEnd)
	return e
}

// finalizeEnd is the backstop for an End the program forgot to close. It
// never blocks: Go runs every finalizer on one goroutine, so one that waited
// for a stalled reader would stop all the program's finalizers (os.File's
// among them). An End holding nothing unsent is closed at once; one still
// holding messages (a send buffer, or the committed rest of a TrySend or
// SendTimeout) is flushed and closed by a new goroutine, so those messages
// are not lost. That goroutine waits as long as the reader does not read
// (until it reads or closes its end); Close the End yourself to know when,
// and whether, its messages left.
func finalizeEnd(e *End) {
	h := e.h
	if h == nil {
		return
	}
	e.h = nil
	for _, w := range []*netWait{e.rw, e.ww} {
		if w != nil {
			w.free() // its descriptor's os.File has a finalizer of its own
		}
	}
	if C.tubo_end_unsent_bytes(h) == 0 {
		C.tubo_end_free(h)
		return
	}
	go C.tubo_end_free(h)
}

// withEnd runs f with e.mu held on the End's open handle and returns what f
// returns; on a closed End it returns closedError without calling f.
func withEnd[T any](e *End, f func(h *C.tubo_end) (T, error)) (T, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		var zero T
		return zero, closedError("end")
	}
	return f(e.h)
}

// call runs one C function of the End (with e.mu held) and turns its status
// and error object into a Go error; on a closed End it returns closedError
// without calling f.
func (e *End) call(f func(h *C.tubo_end, cerr **C.tubo_error) C.int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	var cerr *C.tubo_error
	return takeError(f(e.h, &cerr), cerr)
}

// endValue returns get(h) with e.mu held, or closed once the End is closed.
func endValue[T any](e *End, closed T, get func(h *C.tubo_end) T) T {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closed
	}
	return get(e.h)
}

// Pipe creates a simplex pipe: what is sent on w is received on r.
func Pipe() (r, w *End, err error) {
	return newPair(func(r, w **C.tubo_end, cerr **C.tubo_error) C.int { return C.tubo_pipe_new(r, w, cerr) })
}

// DuplexPipe creates two connected duplex ends (a socket pair), like Python's
// Pipe(duplex=True): what one sends the other receives.
func DuplexPipe() (a, b *End, err error) {
	return newPair(func(x, y **C.tubo_end, cerr **C.tubo_error) C.int { return C.tubo_duplex_pipe_new(x, y, cerr) })
}

// newPair makes the two ends of a new pipe with f (tubo_pipe_new or
// tubo_duplex_pipe_new).
func newPair(f func(a, b **C.tubo_end, cerr **C.tubo_error) C.int) (*End, *End, error) {
	if versionErr != nil {
		return nil, nil, versionErr
	}
	var ca, cb *C.tubo_end
	var cerr *C.tubo_error
	if err := takeError(f(&ca, &cb, &cerr), cerr); err != nil {
		return nil, nil, err
	}
	return newEnd(ca), newEnd(cb), nil
}

// Kind returns the kind of the end (ReadEnd, WriteEnd or DuplexEnd), or 0
// once it is closed.
func (e *End) Kind() EndKind {
	return endValue(e, 0, func(*C.tubo_end) EndKind { return e.kind })
}

// Fd returns the descriptor the end owns (still owned by the end), or -1 once
// it is closed.
func (e *End) Fd() int {
	return endValue(e, -1, func(h *C.tubo_end) int { return int(C.tubo_end_fd(h)) })
}

// CloseWrite half-closes a duplex end: the peer sees io.EOF, and what it
// sends back can still be received here.
func (e *End) CloseWrite() error {
	return e.call(func(h *C.tubo_end, cerr **C.tubo_error) C.int { return C.tubo_end_close_write(h, cerr) })
}
