package tubo

/*
#include <stdlib.h>
#include "tubo.h"
*/
import "C"

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"
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
	mu      sync.Mutex
	h       *C.tubo_end // nil once closed or consumed
	kind    EndKind
	scratch []byte // Recv's buffer for small messages, made by the first Recv
	// A slice of the size of a message whose direct receive RecvContext gave
	// up on (the library keeps what arrived): the next receive reuses it.
	pending []byte
}

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
	if C.tubo_end_unsent_bytes(h) == 0 {
		C.tubo_end_free(h)
		return
	}
	go C.tubo_end_free(h)
}

// Pipe creates a simplex pipe: what is sent on w is received on r.
func Pipe() (r, w *End, err error) {
	if versionErr != nil {
		return nil, nil, versionErr
	}
	var cr, cw *C.tubo_end
	var cerr *C.tubo_error
	if err := takeError(C.tubo_pipe_new(&cr, &cw, &cerr), cerr); err != nil {
		return nil, nil, err
	}
	return newEnd(cr), newEnd(cw), nil
}

// DuplexPipe creates two connected duplex ends (a socket pair), like Python's
// Pipe(duplex=True): what one sends the other receives.
func DuplexPipe() (a, b *End, err error) {
	if versionErr != nil {
		return nil, nil, versionErr
	}
	var ca, cb *C.tubo_end
	var cerr *C.tubo_error
	if err := takeError(C.tubo_duplex_pipe_new(&ca, &cb, &cerr), cerr); err != nil {
		return nil, nil, err
	}
	return newEnd(ca), newEnd(cb), nil
}

// Kind returns the kind of the end (ReadEnd, WriteEnd or DuplexEnd), or 0
// once it is closed.
func (e *End) Kind() EndKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return 0
	}
	return e.kind
}

// Fd returns the descriptor the end owns (still owned by the end), or -1 once
// it is closed.
func (e *End) Fd() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return -1
	}
	return int(C.tubo_end_fd(e.h))
}

// take gives up the C handle (to a call that consumes it): the End becomes
// closed. Returns nil if it already was.
func (e *End) take() *C.tubo_end {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.h
	e.h = nil
	runtime.SetFinalizer(e, nil)
	return h
}

// Send sends b as one message (an empty b is a message too). It blocks until
// the message is written or stored in the send buffer; b is not kept.
// Errors: ErrPeerClosed when no reader is left, ErrClosed, ErrInvalidArgument
// on a read end, ErrSystem.
func (e *End) Send(b []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0]) // pinned for the call; the library copies or writes it
	}
	var cerr *C.tubo_error
	rc := C.tubo_end_send(e.h, p, C.size_t(len(b)), &cerr)
	runtime.KeepAlive(b)
	return takeError(rc, cerr)
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
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return false, closedError("end")
	}
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	var cerr *C.tubo_error
	rc := C.tubo_end_try_send(e.h, p, C.size_t(len(b)), &cerr)
	runtime.KeepAlive(b)
	if rc == C.TUBO_E_TIMEOUT {
		C.tubo_error_free(cerr)
		return false, nil
	}
	if err := takeError(rc, cerr); err != nil {
		return false, err
	}
	return true, nil
}

// SendTimeout sends b as one message, waiting at most timeout for room (a
// negative timeout waits forever, as Send). It returns nil when the message
// was accepted (written, or committed with its rest kept by the End, see
// TrySend), and an error matching ErrTimeout (and os.ErrDeadlineExceeded)
// only when nothing of b was written, so the same message may be sent again.
func (e *End) SendTimeout(b []byte, timeout time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	var cerr *C.tubo_error
	rc := C.tubo_end_send_timeout(e.h, p, C.size_t(len(b)), durationMs(timeout), &cerr)
	runtime.KeepAlive(b)
	return takeError(rc, cerr)
}

// SendContext sends b as one message, waiting for room until ctx is done
// (then it returns ctx.Err(), with nothing of b written). Accepted means
// written or committed, as for TrySend.
func (e *End) SendContext(ctx context.Context, b []byte) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := e.TrySend(b)
		if err != nil || ok {
			return err
		}
		if err := e.PollWriteContext(ctx); err != nil {
			return err
		}
	}
}

// FlushTimeout writes out what the End holds (a committed rest and the send
// buffer), waiting at most timeout (0 only tries, negative waits forever).
// An error matching ErrTimeout means some is still held (progress is kept).
func (e *End) FlushTimeout(timeout time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	var cerr *C.tubo_error
	return takeError(C.tubo_end_flush_timeout(e.h, durationMs(timeout), &cerr), cerr)
}

// Unsent returns the bytes the End has accepted but not yet written: the
// committed rest of a message and the send buffer (0 for a read end).
func (e *End) Unsent() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return 0
	}
	return int(C.tubo_end_unsent_bytes(e.h))
}

// PollWrite waits up to timeout until a write or duplex end can make
// progress sending without blocking (room in the pipe), or its readers are
// gone (a send then fails with ErrPeerClosed). A zero timeout only looks; a
// negative one waits forever.
func (e *End) PollWrite(timeout time.Duration) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return false, closedError("end")
	}
	var ws *C.tubo_wait_set
	var cerr *C.tubo_error
	if err := takeError(C.tubo_wait_set_new(&ws, &cerr), cerr); err != nil {
		return false, err
	}
	defer C.tubo_wait_set_free(ws)
	if err := takeError(C.tubo_wait_set_add_end_writable(ws, e.h, 0, &cerr), cerr); err != nil {
		return false, err
	}
	var key C.uint64_t
	var n C.size_t
	if err := takeError(C.tubo_wait_set_wait(&n, ws, &key, 1, durationMs(timeout), &cerr), cerr); err != nil {
		return false, err
	}
	return n > 0, nil
}

// PollWriteContext waits until the end can make progress sending (see
// PollWrite), then returns nil, or until ctx is done (returning ctx.Err()).
func (e *End) PollWriteContext(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	return waitContext(ctx, func(ws *C.tubo_wait_set, key C.uint64_t) error {
		var cerr *C.tubo_error
		return takeError(C.tubo_wait_set_add_end_writable(ws, e.h, key, &cerr), cerr)
	})
}

// Recv receives the next message. At the end of the stream it returns io.EOF,
// again on every later call. ErrTruncated (the writer died mid-message),
// ErrBadLength and ErrTooLarge leave the end unusable, and say so on every
// later call. Memory grows with the bytes that arrive, not with the length a
// header announces (beyond a bounded first step), so peers announcing huge
// messages they never send cannot exhaust it.
func (e *End) Recv() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return nil, closedError("end")
	}
	return e.recv(-1)
}

// recv is Recv with e.mu held and e.h open, giving up after timeoutMs
// (negative: never) with ErrTimeout, the part of the message received kept
// by the library.
func (e *End) recv(timeoutMs C.int64_t) ([]byte, error) {
	if buf := e.pending; buf != nil {
		n, err := e.recvIntoTimeout(buf, timeoutMs)
		if errors.Is(err, ErrTimeout) {
			return nil, err
		}
		e.pending = nil
		if err == nil {
			if n < len(buf) { // another, shorter message (RecvInto took that one)
				out := make([]byte, n)
				copy(out, buf[:n])
				return out, nil
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
	n, err := e.recvIntoTimeout(e.scratch, timeoutMs)
	if err == nil {
		out := make([]byte, n)
		copy(out, e.scratch[:n])
		return out, nil
	}
	var small *BufferTooSmallError
	if !errors.As(err, &small) {
		return nil, err
	}
	if small.Needed > recvDirectLimit {
		return e.recvGrowing(timeoutMs)
	}
	out := make([]byte, small.Needed)
	n, err = e.recvIntoTimeout(out, timeoutMs)
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			e.pending = out
		}
		return nil, err
	}
	return out[:n], nil
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
	out := make([]byte, int(b.len))
	if len(out) > 0 {
		copy(out, unsafe.Slice((*byte)(unsafe.Pointer(b.data)), len(out)))
	}
	return out, nil
}

// RecvInto receives the next message into buf and returns its size. If the
// message does not fit, it returns a *BufferTooSmallError carrying the size
// needed (errors.Is(err, tubo.ErrBufferTooSmall)) and the message stays
// unread for the next receive. io.EOF and the other errors as for Recv.
func (e *End) RecvInto(buf []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return 0, closedError("end")
	}
	return e.recvInto(buf)
}

// recvInto is RecvInto with e.mu held and e.h open.
func (e *End) recvInto(buf []byte) (int, error) { return e.recvIntoTimeout(buf, -1) }

// recvIntoTimeout is recvInto giving up after timeoutMs (negative: never)
// with ErrTimeout; the library keeps what arrived, also what it stored in buf.
func (e *End) recvIntoTimeout(buf []byte, timeoutMs C.int64_t) (int, error) {
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	var n C.size_t
	var cerr *C.tubo_error
	var rc C.int
	if timeoutMs < 0 {
		rc = C.tubo_end_recv_into(&n, e.h, p, C.size_t(len(buf)), &cerr)
	} else {
		rc = C.tubo_end_recv_into_timeout(&n, e.h, p, C.size_t(len(buf)), timeoutMs, &cerr)
	}
	runtime.KeepAlive(buf)
	if rc == C.TUBO_E_BUFFER_TOO_SMALL {
		C.tubo_error_free(cerr)
		return 0, &BufferTooSmallError{Needed: int(n), Have: len(buf)}
	}
	if err := takeError(rc, cerr); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Poll waits up to timeout for something to receive: it returns true if a
// receive can make progress without waiting (a message, more of one, or the
// end of the stream). A zero timeout only looks; a negative one waits forever.
func (e *End) Poll(timeout time.Duration) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return false, closedError("end")
	}
	var ready C.int
	var cerr *C.tubo_error
	if err := takeError(C.tubo_end_poll(&ready, e.h, durationMs(timeout), &cerr), cerr); err != nil {
		return false, err
	}
	return ready != 0, nil
}

// PollContext waits until there is something to receive (then returns nil)
// or ctx is done (then returns ctx.Err()). Nothing is received.
func (e *End) PollContext(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	return waitContext(ctx, func(ws *C.tubo_wait_set, key C.uint64_t) error {
		var cerr *C.tubo_error
		return takeError(C.tubo_wait_set_add_end(ws, e.h, key, &cerr), cerr)
	})
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
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return nil, closedError("end")
	}
	return e.recv(0)
}

// Close flushes and closes the end. The end is closed even when the flush
// fails (the error is returned). Closing a closed end returns nil.
func (e *End) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return nil
	}
	var cerr *C.tubo_error
	err := takeError(C.tubo_end_close(e.h, &cerr), cerr)
	C.tubo_end_free(e.h)
	e.h = nil
	runtime.SetFinalizer(e, nil)
	return err
}

// CloseWrite half-closes a duplex end: the peer sees io.EOF, and what it
// sends back can still be received here.
func (e *End) CloseWrite() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	var cerr *C.tubo_error
	return takeError(C.tubo_end_close_write(e.h, &cerr), cerr)
}

// SetMaxMessageSize sets the largest message a read or duplex end accepts
// (1 GiB by default); a longer one is ErrTooLarge, before any of it is read.
func (e *End) SetMaxMessageSize(max uint64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	var cerr *C.tubo_error
	return takeError(C.tubo_end_set_max_message_size(e.h, C.uint64_t(max), &cerr), cerr)
}

// MaxMessageSize returns the largest message a read or duplex end accepts (0
// for a write end or a closed end).
func (e *End) MaxMessageSize() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return 0
	}
	return uint64(C.tubo_end_max_message_size(e.h))
}

// SetSendBuffer makes Send store messages in a buffer of capacity bytes and
// write them out when it fills, on Flush or on Close (0: unbuffered, the
// default). Buffered messages not yet flushed are not seen by the reader.
func (e *End) SetSendBufferSize(capacity int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	if capacity < 0 {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: SetSendBuffer: negative capacity"}
	}
	var cerr *C.tubo_error
	return takeError(C.tubo_end_set_send_buffer_size(e.h, C.size_t(capacity), &cerr), cerr)
}

// SendBuffer returns the send buffer's capacity (0: unbuffered).
func (e *End) SendBufferSize() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return 0
	}
	return int(C.tubo_end_send_buffer_size(e.h))
}

// Flush writes out the messages in the send buffer.
func (e *End) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return closedError("end")
	}
	var cerr *C.tubo_error
	return takeError(C.tubo_end_flush(e.h, &cerr), cerr)
}

// durationMs converts a timeout for the C ABI: negative is forever, and a
// partial millisecond rounds up so that a short timeout still waits.
func durationMs(d time.Duration) C.int64_t {
	if d < 0 {
		return -1
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxInt64/2 {
		ms = math.MaxInt64 / 2
	}
	return C.int64_t(ms)
}

// TakeReadEnd takes the channel name that the spawner passed to this worker
// (TUBO_CHANNELS) as a read end. Each name can be taken once. ErrChannel
// when the variable is malformed, the name missing or taken, the mode not
// "r", or the descriptor not open.
func TakeReadEnd(name string) (*End, error) { return takeChannel(name, ReadEnd) }

// TakeWriteEnd takes the channel name as a write end (mode "w"). See TakeReadEnd.
func TakeWriteEnd(name string) (*End, error) { return takeChannel(name, WriteEnd) }

// TakeDuplexEnd takes the channel name as a duplex end (mode "rw"). See TakeReadEnd.
func TakeDuplexEnd(name string) (*End, error) { return takeChannel(name, DuplexEnd) }

func takeChannel(name string, kind EndKind) (*End, error) {
	if versionErr != nil {
		return nil, versionErr
	}
	cname, err := cString("channel name", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cname))
	var h *C.tubo_end
	var cerr *C.tubo_error
	var rc C.int
	switch kind {
	case ReadEnd:
		rc = C.tubo_channel_take_read_end(&h, cname, &cerr)
	case WriteEnd:
		rc = C.tubo_channel_take_write_end(&h, cname, &cerr)
	default:
		rc = C.tubo_channel_take_duplex_end(&h, cname, &cerr)
	}
	if err := takeError(rc, cerr); err != nil {
		return nil, err
	}
	return newEnd(h), nil
}
