package tubo

/*
#include <stdlib.h>
#include "tubo.h"
*/
import "C"

import (
	"context"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Cmd builds a child process: the exec start method (Command) or the self
// start method (Self). Setters chain and record the first error, which Spawn
// returns:
//
//	p, err := tubo.Command("sort", "-n").Dir("/tmp").Env("LC_ALL", "C").
//		Channel("jobs", r).Stdout(tubo.StdioNull()).Spawn()
//
// Channel and the stdio setters that take an *End consume it, even when the
// command fails: the end is closed in this process when Spawn returns (or when
// the Cmd is closed), so the parent keeps no copy of it.
type Cmd struct {
	h    *C.tubo_command // nil once spawned or closed
	err  error           // the first setter error
	what string          // for messages: the program or the entry
	self bool            // made by Self: what is an entry
	path bool            // a name without a slash is looked up in PATH

	// Set by Stdout and Stderr: Output and CombinedOutput refuse a stream
	// that was set (as os/exec's "Stdout already set").
	stdoutSet, stderrSet bool

	ctx       context.Context        // CommandContext's, nil otherwise
	cancel    func(p *Process) error // run when ctx is done (command_context.go)
	waitDelay time.Duration          // then SIGKILL after this, if > 0
}

// Command returns a builder that runs the program name with args (no shell).
// A name without a slash is looked up in PATH, as os/exec does.
func Command(name string, args ...string) *Cmd {
	c := newCmd(name, func(cname *C.char, out **C.tubo_command, cerr **C.tubo_error) C.int {
		return C.tubo_command_new(out, cname, cerr)
	})
	if !strings.Contains(name, "/") {
		c.SearchPath(true)
	}
	return c.Args(args...)
}

// Self returns a builder that re-executes this binary (/proc/self/exe) into
// the entry point entry, registered with RegisterEntry, with args as its
// arguments. Safe from any goroutine; the child does not inherit this
// process's memory, only what the entry is given.
func Self(entry string, args ...string) *Cmd {
	c := newCmd(entry, func(cname *C.char, out **C.tubo_command, cerr **C.tubo_error) C.int {
		return C.tubo_command_new_self(out, cname, cerr)
	})
	c.self = true
	return c.Args(args...)
}

func newCmd(what string, create func(*C.char, **C.tubo_command, **C.tubo_error) C.int) *Cmd {
	c := &Cmd{what: what}
	if versionErr != nil {
		c.err = versionErr
		return c
	}
	cname, err := cString("program", what)
	if err != nil {
		c.err = err
		return c
	}
	defer C.free(unsafe.Pointer(cname))
	// The handle goes through a local: &c.h would point into the Cmd, whose
	// other fields hold Go pointers (what, err), and cgo's pointer check
	// panics on that ("Go pointer to Go pointer") whenever what is not a
	// string constant, e.g. a program path built at run time.
	var h *C.tubo_command
	var cerr *C.tubo_error
	if err := takeError(create(cname, &h, &cerr), cerr); err != nil {
		c.err = err
		return c
	}
	c.h = h
	runtime.SetFinalizer(c, func(c *Cmd) { C.tubo_command_free(c.h) })
	// Go's default, as os/exec's Pdeathsig: the child may outlive this
	// process (the C library's default is the other way round).
	return c.DieWithParent(false)
}

// DieWithParent makes the child get SIGKILL when this process dies, by any
// cause, SIGKILL included (off by default, as os/exec's
// SysProcAttr.Pdeathsig). Unlike Pdeathsig with os/exec, it does not depend
// on the OS thread the goroutine runs on: the library starts such children
// from a thread that lives as long as the process. The kernel clears the
// signal when the child execs a set-user-ID or set-group-ID program.
func (c *Cmd) DieWithParent(die bool) *Cmd {
	return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int {
		return C.tubo_command_die_with_parent(h, cBool(die), cerr)
	})
}

// NewProcessGroup makes the child the leader of a new process group (as
// os/exec's SysProcAttr.Setpgid), so that Process.SignalGroup and Close's
// stop sequence reach whatever it starts in its group.
func (c *Cmd) NewProcessGroup(lead bool) *Cmd {
	return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int {
		return C.tubo_command_new_process_group(h, cBool(lead), cerr)
	})
}

// set runs one C setter unless an earlier one failed.
func (c *Cmd) set(f func(h *C.tubo_command, cerr **C.tubo_error) C.int) *Cmd {
	if c.err != nil {
		return c
	}
	if c.h == nil {
		c.err = closedError("command")
		return c
	}
	var cerr *C.tubo_error
	c.err = takeError(f(c.h, &cerr), cerr)
	return c
}

// setString is set with a string argument copied to C.
func (c *Cmd) setString(what, s string, f func(h *C.tubo_command, cs *C.char, cerr **C.tubo_error) C.int) *Cmd {
	if c.err != nil {
		return c
	}
	cs, err := cString(what, s)
	if err != nil {
		c.err = err
		return c
	}
	defer C.free(unsafe.Pointer(cs))
	return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int { return f(h, cs, cerr) })
}

// Args appends arguments.
func (c *Cmd) Args(args ...string) *Cmd {
	for _, a := range args {
		c.setString("argument", a, func(h *C.tubo_command, cs *C.char, cerr **C.tubo_error) C.int {
			return C.tubo_command_arg(h, cs, cerr)
		})
	}
	return c
}

// Argv0 sets argv[0] (the program's path by default).
func (c *Cmd) Argv0(argv0 string) *Cmd {
	return c.setString("argv0", argv0, func(h *C.tubo_command, cs *C.char, cerr **C.tubo_error) C.int {
		return C.tubo_command_argv0(h, cs, cerr)
	})
}

// SearchPath turns the PATH look-up of a name without a slash on or off.
func (c *Cmd) SearchPath(search bool) *Cmd {
	if c.err == nil && c.h != nil {
		c.path = search
	}
	return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int {
		return C.tubo_command_search_path(h, cBool(search), cerr)
	})
}

// Env sets name=value in the child's environment (inherited otherwise).
func (c *Cmd) Env(name, value string) *Cmd {
	if c.err != nil {
		return c
	}
	cv, err := cString("environment value", value)
	if err != nil {
		c.err = err
		return c
	}
	defer C.free(unsafe.Pointer(cv))
	return c.setString("environment name", name, func(h *C.tubo_command, cs *C.char, cerr **C.tubo_error) C.int {
		return C.tubo_command_env_set(h, cs, cv, cerr)
	})
}

// Unsetenv removes name from the child's environment.
func (c *Cmd) Unsetenv(name string) *Cmd {
	return c.setString("environment name", name, func(h *C.tubo_command, cs *C.char, cerr **C.tubo_error) C.int {
		return C.tubo_command_env_unset(h, cs, cerr)
	})
}

// ClearEnv starts the child with an empty environment (plus what Env adds
// afterwards).
func (c *Cmd) ClearEnv() *Cmd {
	return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int {
		return C.tubo_command_env_clear(h, cerr)
	})
}

// Dir runs the child in directory dir.
func (c *Cmd) Dir(dir string) *Cmd {
	return c.setString("directory", dir, func(h *C.tubo_command, cs *C.char, cerr **C.tubo_error) C.int {
		return C.tubo_command_working_directory(h, cs, cerr)
	})
}

// Stdio is what a child's standard stream is connected to.
type Stdio struct {
	kind int // 0 inherit, 1 null, 2 path, 3 end, 4 file
	path string
	end  *End
	file *os.File
}

// StdioInherit is the parent's own stream (the default).
func StdioInherit() Stdio { return Stdio{} }

// StdioNull is /dev/null.
func StdioNull() Stdio { return Stdio{kind: 1} }

// StdioPath is the file at path, opened in the child: read for stdin,
// created or truncated for stdout and stderr.
func StdioPath(path string) Stdio { return Stdio{kind: 2, path: path} }

// StdioEnd is a pipe end (raw bytes; the framing is up to the two programs).
// The end is consumed when the Stdio is given to a Cmd.
func StdioEnd(e *End) Stdio { return Stdio{kind: 3, end: e} }

// StdioFile is an open file; the Cmd uses a duplicate, so f stays the caller's.
func StdioFile(f *os.File) Stdio { return Stdio{kind: 4, file: f} }

// Stdin sets the child's standard input.
func (c *Cmd) Stdin(s Stdio) *Cmd { return c.stdio(C.TUBO_STDIN, s) }

// Stdout sets the child's standard output.
func (c *Cmd) Stdout(s Stdio) *Cmd {
	c.stdoutSet = true
	return c.stdio(C.TUBO_STDOUT, s)
}

// Stderr sets the child's standard error.
func (c *Cmd) Stderr(s Stdio) *Cmd {
	c.stderrSet = true
	return c.stdio(C.TUBO_STDERR, s)
}

func (c *Cmd) stdio(stream C.int, s Stdio) *Cmd {
	switch s.kind {
	case 1:
		return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int {
			return C.tubo_command_stdio_null(h, stream, cerr)
		})
	case 2:
		return c.setString("path", s.path, func(h *C.tubo_command, cs *C.char, cerr **C.tubo_error) C.int {
			return C.tubo_command_stdio_path(h, stream, cs, cerr)
		})
	case 3:
		return c.consume(s.end, func(h *C.tubo_command, e *C.tubo_end, cerr **C.tubo_error) C.int {
			return C.tubo_command_stdio_end(h, stream, e, cerr)
		})
	case 4:
		if c.err != nil {
			return c
		}
		fd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, s.file.Fd(), syscall.F_DUPFD_CLOEXEC, 3) // never onto 0-2
		runtime.KeepAlive(s.file)
		if errno != 0 {
			c.err = &Error{Code: CodeSystem, Message: "tubo: stdio file " + s.file.Name() + ": dup: " + errno.Error(), Errno: errno}
			return c
		}
		if c.h == nil {
			syscall.Close(int(fd))
			c.err = closedError("command")
			return c
		}
		return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int {
			return C.tubo_command_stdio_fd(h, stream, C.int(fd), cerr) // consumes fd
		})
	}
	return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int {
		return C.tubo_command_stdio_inherit(h, stream, cerr)
	})
}

// Channel passes e to the child as the channel name (contract 2: on fds 3,
// 4, ... in the order given, described by TUBO_CHANNELS), with the mode of its
// kind. e is consumed: closed in this process, even if the Cmd fails.
func (c *Cmd) Channel(name string, e *End) *Cmd {
	cname, err := cString("channel name", name)
	if err != nil {
		if e != nil {
			e.Close() // consumed, as on every failure
		}
		if c.err == nil {
			c.err = err
		}
		return c
	}
	defer C.free(unsafe.Pointer(cname))
	return c.consume(e, func(h *C.tubo_command, ce *C.tubo_end, cerr **C.tubo_error) C.int {
		return C.tubo_command_channel(h, cname, ce, cerr)
	})
}

// consume hands e's C handle to f, which consumes it; if the command already
// failed, the end is just closed.
func (c *Cmd) consume(e *End, f func(h *C.tubo_command, ce *C.tubo_end, cerr **C.tubo_error) C.int) *Cmd {
	if e == nil {
		if c.err == nil {
			c.err = &Error{Code: CodeInvalidArgument, Message: "tubo: command " + quote(c.what) + ": nil end"}
		}
		return c
	}
	ce := e.take()
	if ce == nil {
		if c.err == nil {
			c.err = &Error{Code: CodeInvalidArgument, Message: "tubo: command " + quote(c.what) + ": the end is closed or was already handed over"}
		}
		return c
	}
	if c.err != nil || c.h == nil {
		C.tubo_end_free(ce)
		if c.err == nil {
			c.err = closedError("command")
		}
		return c
	}
	return c.set(func(h *C.tubo_command, cerr **C.tubo_error) C.int { return f(h, ce, cerr) })
}

// Spawn starts the child and releases the builder (a Cmd spawns once). The
// ends given to Channel and Stdio are closed in this process when it returns,
// success or failure. A failure to start is ErrSpawn, with a message naming
// the stage (chdir, exec, ...), the program and errno; it wraps the errno
// (errors.Is(err, fs.ErrNotExist) for a missing program or directory), and
// a name that PATH does not have also matches exec.ErrNotFound.
//
// A Cmd made by CommandContext or SelfContext starts nothing when its
// context is already done: Spawn returns ctx.Err() (and closes the ends, as
// on every failure).
func (c *Cmd) Spawn() (*Process, error) {
	defer c.Close()
	if c.err != nil {
		return nil, c.err
	}
	if c.h == nil {
		return nil, closedError("command")
	}
	if c.ctx != nil {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
	}
	var h *C.tubo_process
	var cerr *C.tubo_error
	if err := takeError(C.tubo_command_spawn(&h, c.h, &cerr), cerr); err != nil {
		return nil, c.spawnError(err)
	}
	p := newProcess(h)
	c.watchContext(p)
	return p, nil
}

// spawnError is err in Go's terms: an unknown entry names RegisterEntry
// (the library names its C++ and C ways to register), and an exec of a name
// looked up in PATH that failed with ENOENT is a failed PATH lookup.
func (c *Cmd) spawnError(err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	if c.self {
		e.Message = strings.Replace(e.Message, "(TUBO_ENTRY, tubo_entry_register)", "(tubo.RegisterEntry)", 1)
	}
	if c.path && !c.self && !strings.Contains(c.what, "/") && e.Errno == syscall.ENOENT {
		// `spawn "NAME": exec: STRERROR`: the stage is the part before the errno text.
		stage := e.Message[:strings.LastIndex(e.Message, ": ")]
		e.notFound = strings.HasSuffix(stage, ": exec")
	}
	return e
}

// Close releases a builder that will not be spawned, closing the ends it
// holds. Spawn calls it; closing twice returns nil.
func (c *Cmd) Close() error {
	if c.h != nil {
		C.tubo_command_free(c.h)
		c.h = nil
		runtime.SetFinalizer(c, nil)
	}
	if c.err == nil {
		c.err = closedError("command")
	}
	return nil
}
