package tubo

import (
	"context"
	"io"
	"os"
	"strconv"
)

// This file holds Output and CombinedOutput (as os/exec's): run a command,
// collect what it writes on raw pipes, wait for it, and turn an unsuccessful
// exit into an *ExitError.

// ExitError is a child's unsuccessful exit (a code other than 0, or a
// signal) as an error, returned by Output and CombinedOutput, as os/exec's
// *exec.ExitError: the exit status is embedded (err.ExitCode(),
// err.Signal(), ...), and its text is the status's ("exit status 1",
// "signal: killed"). Get it with errors.As.
type ExitError struct {
	ExitStatus
	// Stderr is what the child wrote on its standard error, when Output
	// collected it (the Cmd's Stderr was not set): the first and last 32 KiB
	// of it at most, the middle replaced by a line saying how many bytes
	// were left out. Nil otherwise.
	Stderr []byte
}

func (e *ExitError) Error() string { return e.ExitStatus.String() }

// stderrKept is how much of the start and of the end of the standard error
// Output keeps for ExitError.Stderr (os/exec keeps as much).
const stderrKept = 32 << 10

// Output starts the command with its standard output on a new pipe, reads it
// to its end, waits for the child and returns what it wrote, as os/exec's
// Cmd.Output. Unless Stderr was set, the child's standard error goes to a
// second pipe instead of this process's, and is kept for the *ExitError (as
// os/exec does when Cmd.Stderr is nil). The Cmd is spent, as by Spawn.
//
// The error is Spawn's, or a failure to wait or read; else an *ExitError if
// the child did not exit with status 0; else Process.ContextErr (a command of
// CommandContext interrupted by its context and yet exiting with 0 gives
// ctx.Err()). A Cmd whose Stdout was set fails with ErrInvalidArgument.
//
// Output waits for the pipe's end of file: a grandchild that keeps the
// child's standard output open keeps Output waiting (as os/exec's without
// WaitDelay).
func (c *Cmd) Output() ([]byte, error) {
	if c.err == nil && c.stdoutSet {
		c.err = &Error{Code: CodeInvalidArgument, Message: "tubo: command " + quote(c.what) + ": Output: Stdout is already set"}
	}
	var stderr *prefixSuffix
	if !c.stderrSet {
		stderr = &prefixSuffix{keep: stderrKept}
	}
	return c.collect(false, stderr)
}

// CombinedOutput is Output with the child's standard output and standard
// error on one pipe, as os/exec's Cmd.CombinedOutput: what it writes on
// either comes back in the order it was written. A Cmd whose Stdout or
// Stderr was set fails with ErrInvalidArgument. The *ExitError of an
// unsuccessful exit has no Stderr (it is in the output).
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.err == nil && (c.stdoutSet || c.stderrSet) {
		c.err = &Error{Code: CodeInvalidArgument, Message: "tubo: command " + quote(c.what) + ": CombinedOutput: Stdout or Stderr is already set"}
	}
	return c.collect(true, nil)
}

// collect runs c with its standard output (and standard error, if combined)
// on a new pipe, and its standard error on another if stderr is not nil.
func (c *Cmd) collect(combined bool, stderr *prefixSuffix) ([]byte, error) {
	defer c.Close()
	if c.err != nil {
		return nil, c.err
	}
	outR, err := c.pipeTo(combined, true)
	if err != nil {
		return nil, err
	}
	defer outR.Close()
	var errR *os.File
	if stderr != nil {
		if errR, err = c.pipeTo(false, false); err != nil {
			return nil, err
		}
		defer errR.Close()
	}
	p, err := c.Spawn()
	if err != nil {
		return nil, err
	}
	defer p.Close()

	stderrDone := make(chan error, 1)
	if errR != nil {
		go func() {
			_, err := io.Copy(stderr, errR)
			stderrDone <- err
		}()
	} else {
		stderrDone <- nil
	}
	out, readErr := io.ReadAll(outR)
	if err := <-stderrDone; readErr == nil {
		readErr = err
	}
	status, err := p.Wait(context.Background())
	if err != nil {
		return out, err
	}
	if !status.Success() {
		exitErr := &ExitError{ExitStatus: status}
		if stderr != nil {
			exitErr.Stderr = stderr.Bytes()
		}
		return out, exitErr
	}
	if err := p.ContextErr(); err != nil {
		return out, err
	}
	return out, readErr
}

// pipeTo makes a pipe, gives its write end to the child as standard output
// (and standard error, if both) or standard error (if not stdout), and
// returns its read end; this process keeps no copy of the write end.
func (c *Cmd) pipeTo(both, stdout bool) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, &Error{Code: CodeSystem, Message: "tubo: command " + quote(c.what) + ": pipe: " + err.Error(), Errno: errnoOf(err)}
	}
	// The Cmd takes duplicates (StdioFile), which need no O_NONBLOCK: the
	// write end is the child's alone, and w is closed right after.
	if stdout || both {
		c.Stdout(StdioFile(w))
	}
	if !stdout || both {
		c.Stderr(StdioFile(w))
	}
	w.Close()
	if c.err != nil {
		r.Close()
		return nil, c.err
	}
	return r, nil
}

// prefixSuffix is an io.Writer that keeps the first and the last keep bytes
// written to it (os/exec's prefixSuffixSaver).
type prefixSuffix struct {
	keep    int
	prefix  []byte
	suffix  []byte // the last bytes written after the prefix, at most keep
	skipped int64  // bytes between prefix and suffix, left out
}

func (s *prefixSuffix) Write(p []byte) (int, error) {
	n := len(p)
	if room := s.keep - len(s.prefix); room > 0 {
		if room > len(p) {
			room = len(p)
		}
		s.prefix = append(s.prefix, p[:room]...)
		p = p[room:]
	}
	if len(p) >= s.keep {
		s.skipped += int64(len(s.suffix) + len(p) - s.keep)
		s.suffix = append(s.suffix[:0], p[len(p)-s.keep:]...)
		return n, nil
	}
	if over := len(s.suffix) + len(p) - s.keep; over > 0 {
		s.skipped += int64(over)
		s.suffix = append(s.suffix[:0], s.suffix[over:]...)
	}
	s.suffix = append(s.suffix, p...)
	return n, nil
}

// Bytes returns the prefix, a line saying how many bytes were left out (if
// any were), and the suffix.
func (s *prefixSuffix) Bytes() []byte {
	if s.skipped == 0 {
		return append(append([]byte(nil), s.prefix...), s.suffix...)
	}
	out := append([]byte(nil), s.prefix...)
	out = append(out, "\n... omitting "+strconv.FormatInt(s.skipped, 10)+" bytes ...\n"...)
	return append(out, s.suffix...)
}
