package tubo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

func TestOutputOfEcho(t *testing.T) {
	out, err := tubo.Command("echo", "hello", "world").Output()
	if err != nil || string(out) != "hello world\n" {
		t.Fatalf("Output = %q, %v; want \"hello world\\n\", nil", out, err)
	}
}

func TestOutputOfAFailingCommandIsAnExitErrorWithItsStderr(t *testing.T) {
	out, err := tubo.Command("sh", "-c", "echo out; echo oops >&2; exit 3").Output()
	if string(out) != "out\n" {
		t.Fatalf("Output = %q, want \"out\\n\"", out)
	}
	var exitErr *tubo.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("err = %v (%T), want an *ExitError", err, err)
	}
	if exitErr.ExitCode() != 3 || err.Error() != "exit status 3" || string(exitErr.Stderr) != "oops\n" {
		t.Fatalf("ExitError = %q, code %d, Stderr %q; want exit status 3, \"oops\\n\"", err, exitErr.ExitCode(), exitErr.Stderr)
	}
}

func TestOutputLeavesAStderrThatWasSetAlone(t *testing.T) {
	_, err := tubo.Command("sh", "-c", "echo oops >&2; exit 1").Stderr(tubo.StdioNull()).Output()
	var exitErr *tubo.ExitError
	if !errors.As(err, &exitErr) || exitErr.Stderr != nil {
		t.Fatalf("err = %v, want an *ExitError without Stderr", err)
	}
}

// Both pipes are read at once: a child filling stderr while stdout is read
// (or the other way round) does not deadlock; a long stderr keeps its start
// and end.
func TestOutputReadsLargeStdoutAndStderrTogether(t *testing.T) {
	out, err := tubo.Command("sh", "-c",
		"head -c 200000 /dev/zero | tr '\\0' e >&2; head -c 300000 /dev/zero; echo end >&2; exit 1").Output()
	if len(out) != 300000 || !bytes.Equal(out, make([]byte, 300000)) {
		t.Fatalf("Output gave %d bytes, want 300000 zeros", len(out))
	}
	var exitErr *tubo.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("err = %v, want an *ExitError", err)
	}
	const kept = 32 << 10
	omitted := []byte(fmt.Sprintf("\n... omitting %d bytes ...\n", 200000+len("end\n")-2*kept))
	want := append(append(bytes.Repeat([]byte("e"), kept), omitted...), append(bytes.Repeat([]byte("e"), kept-4), "end\n"...)...)
	if !bytes.Equal(exitErr.Stderr, want) {
		t.Fatalf("Stderr has %d bytes, want %d (the first and last 32 KiB)", len(exitErr.Stderr), len(want))
	}
}

func TestOutputErrors(t *testing.T) {
	if _, err := tubo.Command("/nonexistent/program").Output(); !errors.Is(err, tubo.ErrSpawn) {
		t.Errorf("Output of a missing program = %v, want ErrSpawn", err)
	}
	if _, err := tubo.Command("true").Stdout(tubo.StdioNull()).Output(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Errorf("Output with Stdout set = %v, want ErrInvalidArgument", err)
	}
	for name, c := range map[string]*tubo.Cmd{
		"Stdout": tubo.Command("true").Stdout(tubo.StdioNull()),
		"Stderr": tubo.Command("true").Stderr(tubo.StdioNull()),
	} {
		if _, err := c.CombinedOutput(); !errors.Is(err, tubo.ErrInvalidArgument) {
			t.Errorf("CombinedOutput with %s set = %v, want ErrInvalidArgument", name, err)
		}
	}
	c := tubo.Command("true")
	c.Close()
	if _, err := c.Output(); !errors.Is(err, tubo.ErrClosed) {
		t.Errorf("Output of a closed Cmd = %v, want ErrClosed", err)
	}
}

func TestCombinedOutputKeepsTheOrderOfWrites(t *testing.T) {
	out, err := tubo.Command("sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2; exit 2").CombinedOutput()
	if string(out) != "1\n2\n3\n4\n" {
		t.Fatalf("CombinedOutput = %q, want 1 to 4 in order", out)
	}
	var exitErr *tubo.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 || exitErr.Stderr != nil {
		t.Fatalf("err = %v, want an *ExitError with code 2 and no Stderr", err)
	}
}

func TestOutputOfACommandKilledByItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out, err := tubo.CommandContext(ctx, "sh", "-c", "echo started; exec sleep 30").Output()
	var exitErr *tubo.ExitError
	if string(out) != "started\n" || !errors.As(err, &exitErr) || exitErr.Signal() != syscall.SIGKILL {
		t.Fatalf("Output = %q, %v; want \"started\\n\", signal: killed", out, err)
	}
}

// os/exec's rule: a child that exits 0 after Cancel interrupted it reports
// the context's error.
func TestOutputReportsTheContextWhenTheChildExitsZeroAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The context is done once the child runs (it made the marker file).
	marker := filepath.Join(t.TempDir(), "running")
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(marker); err == nil {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	out, err := tubo.CommandContext(ctx, "sh", "-c", "touch "+marker+"; sleep 0.3; echo done").
		Cancel(func(*tubo.Process) error { return nil }).Output()
	if string(out) != "done\n" || !errors.Is(err, context.Canceled) {
		t.Fatalf("Output = %q, %v; want \"done\\n\", context.Canceled", out, err)
	}
}
