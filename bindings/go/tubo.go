// Package tubo is the Go binding of tubo: pipes that carry byte messages,
// processes started with the exec and self start methods, and the worker side
// of channel hand-off, over the stable C ABI (libtubo.so.1, capi/tubo.h).
//
//	r, w, err := tubo.Pipe()
//	if err != nil { ... }
//	p, err := tubo.Command("./echo_worker").Channel("in", r).Channel("out", ...).Spawn()
//	w.Send([]byte("hi"))
//	w.Close()                  // the worker sees EOF next
//	for {
//		m, err := results.Recv()
//		if errors.Is(err, io.EOF) { break }
//		...
//	}
//	status, err := p.Wait(ctx)
//
// # Building
//
// The package finds the library with pkg-config (`#cgo pkg-config: tubo`):
// install the C ABI with `tools/install --prefix DIR`, then build with
// PKG_CONFIG_PATH=DIR/lib/pkgconfig, and let the binary find libtubo.so.1 at
// run time with CGO_LDFLAGS="-Wl,-rpath,DIR/lib" (or LD_LIBRARY_PATH, or an
// install into a directory the loader searches).
//
// # Ownership
//
// Every handle (*End, *Cmd, *Process) owns a C handle and must be closed with
// Close; a finalizer frees a handle the program forgot, but only as a backstop
// (it runs at an unknown time, if ever). Passing an end to Cmd.Channel or a
// Stdio consumes it: the *End becomes closed in this process, exactly as in
// the C and C++ APIs, so the parent holds no copy of a write end that would
// keep a reader from ever seeing EOF.
//
// # As os/exec
//
// CommandContext and SelfContext bind a command to a context.Context (a
// child still running when it is done is killed, or gets what Cancel sends;
// Process.ContextErr says what the context did); Output and CombinedOutput
// run a command and collect what it prints, a failed exit being an
// *ExitError. NewEnd and EndFromFd make an End from an *os.File or a
// descriptor the program already has.
//
// # Supervision
//
// A child started with DieWithParent gets SIGKILL when this process dies, by
// any cause, SIGKILL included (off by default, as os/exec's Pdeathsig; the
// library starts such children from a thread that lives as long as the
// process, so the goroutine's OS thread does not matter; a set-user-ID exec
// clears it). NewProcessGroup makes the child lead its own process group, so
// that SignalGroup and Close's stop sequence reach its whole tree. A child's
// exit status survives a foreign reaper (a SIGCHLD handler calling
// waitpid(-1), or SIGCHLD ignored) on Linux 6.15 and later, where the library
// reads it from the pidfd; on older kernels Wait then fails with ErrSystem
// saying the status was taken. The library never puts a descriptor it creates
// on 0, 1 or 2.
//
// # Goroutines
//
// A handle may be used from any goroutine. Waiting never pins an OS thread:
// Recv, RecvInto, RecvContext, Poll, PollWrite, SendContext, Process.Wait
// and WaitSet.Wait park the goroutine on Go's netpoller, as a net.Conn's
// Read does, so a goroutine per worker is cheap, and a WaitSet watches many
// ends and processes from one goroutine. Close on another goroutine wakes
// them (they return ErrClosed; the descriptor is released only after they
// return), and SetReadDeadline, SetWriteDeadline and SetDeadline work as on a
// net.Conn. Receives on one End run one at a time, and a parked receive does
// not hold the End: a Send on the same duplex End proceeds meanwhile. Send
// itself waits for room in the C library, holding the End (bound it with a
// write deadline, or use SendContext). Kill, Terminate, Signal and Pid may be
// called while another goroutine is in Wait.
//
// # Never fork without exec
//
// A Go program runs many threads, so it must never fork without exec: this
// binding has the exec start method (Command) and the self start method
// (Self, RegisterEntry, RunEntryIfRequested) only; tubo_fork is not exposed.
package tubo

/*
#cgo pkg-config: tubo
#include <stdlib.h>
#include "tubo.h"
*/
import "C"

import "fmt"

// The version check, done once when the package loads. A library whose major
// version differs from the header's is not the ABI this package was compiled
// against; rather than panic at start-up (which would break programs that
// merely import tubo), every constructor returns versionErr, so nothing ever
// calls into the mismatched library.
var versionErr = checkVersion(uint(C.tubo_version()), C.TUBO_VERSION_MAJOR)

func checkVersion(lib uint, headerMajor uint) error {
	if lib/10000 != headerMajor {
		return &Error{Code: CodeOther, Message: fmt.Sprintf(
			"tubo: the loaded library is version %d.%d.%d, but this package was built for major version %d",
			lib/10000, lib/100%100, lib%100, headerMajor)}
	}
	return nil
}

// Version returns the version of the loaded library ("1.2.0").
func Version() string { return C.GoString(C.tubo_version_string()) }

// CheckVersion returns nil if the loaded library has the major version this
// package was compiled for, else the error every constructor returns.
func CheckVersion() error { return versionErr }
