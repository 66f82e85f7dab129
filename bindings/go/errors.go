package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// Code is a tubo status code (the negative TUBO_E_* codes of tubo.h).
type Code int

// The error codes of tubo.h. End of stream is not among them: it is io.EOF.
const (
	CodeOther           Code = C.TUBO_E_OTHER
	CodeInvalidArgument Code = C.TUBO_E_INVALID_ARGUMENT
	CodeSystem          Code = C.TUBO_E_SYSTEM
	CodeClosed          Code = C.TUBO_E_CLOSED
	CodeTruncated       Code = C.TUBO_E_TRUNCATED
	CodeBadLength       Code = C.TUBO_E_BAD_LENGTH
	CodeTooLarge        Code = C.TUBO_E_TOO_LARGE
	CodePeerClosed      Code = C.TUBO_E_PEER_CLOSED
	CodeTimeout         Code = C.TUBO_E_TIMEOUT
	CodeSpawn           Code = C.TUBO_E_SPAWN
	CodeChannel         Code = C.TUBO_E_CHANNEL
	CodeWorkerDied      Code = C.TUBO_E_WORKER_DIED
	CodeTaskFailed      Code = C.TUBO_E_TASK_FAILED
	CodeCancelled       Code = C.TUBO_E_CANCELLED
	CodeBufferTooSmall  Code = C.TUBO_E_BUFFER_TOO_SMALL
	CodeNoMemory        Code = C.TUBO_E_NO_MEMORY
)

// String is the library's short name for the code ("truncated", ...).
func (c Code) String() string { return C.GoString(C.tubo_code_name(C.int(c))) }

// Error is a failure reported by the library: its code and its message, which
// names the operation and its object ("recv on fd 5: truncated message (3 of
// 4 header bytes)").
//
// Compare with the sentinels through errors.Is: errors.Is(err,
// tubo.ErrTruncated) holds for every *Error whose Code is CodeTruncated.
// An *Error whose failure had an errno wraps it, as os/exec and net errors
// do: errors.Is(err, syscall.EPIPE), errors.Is(err, fs.ErrNotExist) and
// errors.As(err, &errno) with a syscall.Errno work; a Spawn whose PATH
// lookup found no program also matches exec.ErrNotFound.
type Error struct {
	Code    Code
	Message string
	// Errno is the errno of the system call that failed, 0 when the failure
	// had none (tubo_error_errno; Message ends with its text).
	Errno syscall.Errno

	notFound bool // a PATH lookup found no program: matches exec.ErrNotFound
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "tubo: " + e.Code.String()
	}
	return e.Message
}

// Is reports whether target is the sentinel of e's code. ErrClosed errors
// also match os.ErrClosed, ErrTimeout errors os.ErrDeadlineExceeded, and a
// failed PATH lookup exec.ErrNotFound. The errno is matched through Unwrap.
func (e *Error) Is(target error) bool {
	switch target {
	case os.ErrClosed:
		return e.Code == CodeClosed
	case os.ErrDeadlineExceeded:
		return e.Code == CodeTimeout
	case exec.ErrNotFound:
		return e.notFound
	}
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Unwrap gives e's Errno, nil when it has none.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// Sentinels, one per code, for errors.Is.
var (
	ErrOther           = &Error{Code: CodeOther}
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument}
	ErrSystem          = &Error{Code: CodeSystem}
	ErrClosed          = &Error{Code: CodeClosed}
	ErrTruncated       = &Error{Code: CodeTruncated}
	ErrBadLength       = &Error{Code: CodeBadLength}
	ErrTooLarge        = &Error{Code: CodeTooLarge}
	ErrPeerClosed      = &Error{Code: CodePeerClosed}
	ErrTimeout         = &Error{Code: CodeTimeout}
	ErrSpawn           = &Error{Code: CodeSpawn}
	ErrChannel         = &Error{Code: CodeChannel}
	ErrWorkerDied      = &Error{Code: CodeWorkerDied}
	ErrTaskFailed      = &Error{Code: CodeTaskFailed}
	ErrCancelled       = &Error{Code: CodeCancelled}
	ErrBufferTooSmall  = &Error{Code: CodeBufferTooSmall}
	ErrNoMemory        = &Error{Code: CodeNoMemory}
)

// BufferTooSmallError is what RecvInto returns when the next message does not
// fit the caller's buffer. The message stays unread: a receive with a buffer
// of Needed bytes (or Recv) returns it.
type BufferTooSmallError struct {
	Needed int // the size of the next message
	Have   int // the size of the buffer that was given
}

func (e *BufferTooSmallError) Error() string {
	return fmt.Sprintf("tubo: recv into a buffer of %d bytes: the next message has %d", e.Have, e.Needed)
}

// Is matches ErrBufferTooSmall and io.ErrShortBuffer.
func (e *BufferTooSmallError) Is(target error) bool {
	return target == ErrBufferTooSmall || target == io.ErrShortBuffer
}

// Unwrap gives the generic *Error of the code.
func (e *BufferTooSmallError) Unwrap() error {
	return &Error{Code: CodeBufferTooSmall, Message: e.Error()}
}

// takeError turns a C status and error object into a Go error, freeing the
// object: nil for TUBO_OK, io.EOF for TUBO_EOF, else an *Error.
func takeError(rc C.int, cerr *C.tubo_error) error {
	if cerr != nil {
		defer C.tubo_error_free(cerr)
	}
	switch rc {
	case C.TUBO_OK:
		return nil
	case C.TUBO_EOF:
		return io.EOF
	}
	// tubo_error_message and tubo_error_errno give "" and 0 for NULL.
	return &Error{
		Code:    Code(rc),
		Message: C.GoString(C.tubo_error_message(cerr)),
		Errno:   syscall.Errno(C.tubo_error_errno(cerr)),
	}
}

// closedError is what a call on a Go handle that was closed (or consumed)
// returns; the library is not called.
func closedError(what string) error {
	return &Error{Code: CodeClosed, Message: "tubo: " + what + " is closed"}
}

// errnoOf is the syscall.Errno that err wraps, 0 if none.
func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return 0
}
