package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// This file makes Ends from descriptors the program already has: an
// *os.File (NewEnd, which leaves the file to the caller) or a raw
// descriptor (EndFromFd, which takes it).

// NewEnd returns an End of kind kind on a duplicate of f's descriptor, as
// net.FileConn does: f stays the caller's, to close when it likes (closing
// it does not close the End, and the End's Close does not close f). For
// example, the write end of an os.Pipe:
//
//	r, w, err := os.Pipe()
//	...
//	end, err := tubo.NewEnd(w, tubo.WriteEnd)
//	w.Close() // the End has its own descriptor
//
// The library needs a blocking descriptor, and a duplicate shares f's mode,
// so NewEnd puts f in blocking mode the way f.Fd() does (as os/exec does
// with the files it hands to a child): f keeps working, but its
// SetDeadline methods no longer do.
//
// f must be a pipe or a stream socket open for what kind needs: reading for
// ReadEnd, writing for WriteEnd, a socket for DuplexEnd (a pipe is one-way).
// Anything else is ErrInvalidArgument, naming f and what was wrong; a closed
// f is ErrClosed; a failed dup is ErrSystem with its errno.
func NewEnd(f *os.File, kind EndKind) (*End, error) {
	if versionErr != nil {
		return nil, versionErr
	}
	if f == nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "tubo: NewEnd: nil file"}
	}
	what := "file " + quote(f.Name())
	if err := checkEndKind("NewEnd of "+what, kind); err != nil {
		return nil, err
	}
	fd := f.Fd() // blocking mode: see above
	if fd == ^uintptr(0) {
		return nil, &Error{Code: CodeClosed, Message: "tubo: NewEnd: " + what + " is closed"}
	}
	// Close-on-exec at once, and never onto 0-2 (as every descriptor tubo makes).
	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 3)
	runtime.KeepAlive(f)
	if errno != 0 {
		return nil, &Error{Code: CodeSystem, Message: "tubo: NewEnd of " + what + ": dup: " + errno.Error(), Errno: errno}
	}
	return adoptFd(int(dup), kind, "NewEnd of "+what)
}

// EndFromFd returns an End of kind kind that owns the descriptor fd, as
// os.NewFile does: fd is the End's from now on, closed by its Close, and
// closed also when EndFromFd fails (a call that takes a descriptor takes it
// even when it fails, as everywhere in tubo), unless fd is negative or not
// open. The End puts fd in blocking mode (the library's ends block) and sets
// close-on-exec on it; the blocking mode is shared by every duplicate of fd.
//
// fd must be an open pipe or stream socket, open for what kind needs (see
// NewEnd); a negative fd, a descriptor that is not open, another kind of
// file or a kind other than ReadEnd, WriteEnd and DuplexEnd is
// ErrInvalidArgument, naming the descriptor and what was wrong.
func EndFromFd(fd int, kind EndKind) (*End, error) {
	what := fmt.Sprintf("EndFromFd of descriptor %d", fd)
	if versionErr != nil {
		if fd >= 0 {
			syscall.Close(fd)
		}
		return nil, versionErr
	}
	if fd < 0 {
		return nil, &Error{Code: CodeInvalidArgument, Message: "tubo: " + what + ": the descriptor is negative"}
	}
	if err := checkEndKind(what, kind); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return adoptFd(fd, kind, what)
}

// checkEndKind returns an error naming what if kind is not a kind of end.
func checkEndKind(what string, kind EndKind) error {
	switch kind {
	case ReadEnd, WriteEnd, DuplexEnd:
		return nil
	}
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(
		"tubo: %s: kind %d is not ReadEnd, WriteEnd or DuplexEnd", what, int(kind))}
}

// adoptFd checks that fd (owned, closed on failure unless it is not open)
// suits an end of kind, makes it blocking and close-on-exec, and gives it to
// tubo_end_adopt_fd.
func adoptFd(fd int, kind EndKind, what string) (*End, error) {
	invalid := func(msg string) error {
		syscall.Close(fd)
		return &Error{Code: CodeInvalidArgument, Message: "tubo: " + what + ": " + msg}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		errno := errnoOf(err)
		if errno == syscall.EBADF {
			return nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("tubo: %s: descriptor %d is not open", what, fd), Errno: errno}
		}
		syscall.Close(fd)
		return nil, &Error{Code: CodeSystem, Message: "tubo: " + what + ": fstat: " + err.Error(), Errno: errno}
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		syscall.Close(fd)
		return nil, &Error{Code: CodeSystem, Message: "tubo: " + what + ": fcntl(F_GETFL): " + errno.Error(), Errno: errno}
	}
	access := int(flags) & syscall.O_ACCMODE
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFIFO:
		if kind == DuplexEnd {
			return nil, invalid("a pipe is one-way: a DuplexEnd needs a socket")
		}
	case syscall.S_IFSOCK:
		typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
		if err != nil {
			return nil, invalid("getsockopt(SO_TYPE): " + err.Error())
		}
		if typ != syscall.SOCK_STREAM {
			return nil, invalid("not a stream socket (messages need a byte stream)")
		}
	default:
		return nil, invalid("not a pipe or a socket (" + fileType(st.Mode) + ")")
	}
	if kind == ReadEnd && access == syscall.O_WRONLY {
		return nil, invalid("a ReadEnd needs a descriptor open for reading, this one is write-only")
	}
	if kind == WriteEnd && access == syscall.O_RDONLY {
		return nil, invalid("a WriteEnd needs a descriptor open for writing, this one is read-only")
	}
	if flags&syscall.O_NONBLOCK != 0 {
		if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFL, flags&^syscall.O_NONBLOCK); errno != 0 {
			syscall.Close(fd)
			return nil, &Error{Code: CodeSystem, Message: "tubo: " + what + ": clearing O_NONBLOCK: " + errno.Error(), Errno: errno}
		}
	}
	syscall.CloseOnExec(fd)
	var h *C.tubo_end
	var cerr *C.tubo_error
	if err := takeError(C.tubo_end_adopt_fd(&h, C.int(fd), C.int(kind), &cerr), cerr); err != nil {
		return nil, err // the library closed fd
	}
	return newEnd(h), nil
}

// fileType names the type of a file mode for messages.
func fileType(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return "a regular file"
	case syscall.S_IFDIR:
		return "a directory"
	case syscall.S_IFCHR:
		return "a character device"
	case syscall.S_IFBLK:
		return "a block device"
	case syscall.S_IFLNK:
		return "a symbolic link"
	}
	return fmt.Sprintf("file type %#o", mode&syscall.S_IFMT)
}
