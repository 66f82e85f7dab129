package tubo_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

func TestCommandContextKillsTheChildWhenTheContextTimesOut(t *testing.T) {
	// Long enough for Spawn, which refuses a context already done.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	p := spawn(t, tubo.CommandContext(ctx, "sleep", "30"))
	st := wait(t, p)
	if !st.Signaled() || st.Signal() != syscall.SIGKILL || st.String() != "signal: killed" {
		t.Fatalf("status = %v, want signal: killed", st)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("the child ran %v: the timeout did not kill it", elapsed)
	}
	if err := p.ContextErr(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ContextErr = %v, want context.DeadlineExceeded", err)
	}
}

func TestSelfContextKillsTheEntryWhenTheContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := spawn(t, tubo.SelfContext(ctx, "sleep"))
	time.AfterFunc(100*time.Millisecond, cancel)
	if st := wait(t, p); st.Signal() != syscall.SIGKILL {
		t.Fatalf("status = %v, want signal: killed", st)
	}
	if err := p.ContextErr(); !errors.Is(err, context.Canceled) {
		t.Fatalf("ContextErr = %v, want context.Canceled", err)
	}
}

func TestCommandContextAlreadyDoneStartsNothingAndClosesTheEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, w, err := tubo.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	marker := filepath.Join(t.TempDir(), "started")
	_, err = tubo.CommandContext(ctx, "sh", "-c", "touch "+marker).Channel("out", w).Spawn()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Spawn = %v, want context.Canceled", err)
	}
	if _, err := r.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv on the read end = %v, want io.EOF (the write end closed)", err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the child ran (%s exists: %v)", marker, err)
	}
}

func TestCommandContextCancelCanSendSIGTERM(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	p := spawn(t, tubo.CommandContext(ctx, "sleep", "30").Cancel((*tubo.Process).Terminate))
	if st := wait(t, p); st.Signal() != syscall.SIGTERM {
		t.Fatalf("status = %v, want signal: terminated", st)
	}
	if err := p.ContextErr(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ContextErr = %v, want context.DeadlineExceeded", err)
	}
}

func TestCommandContextWaitDelayKillsAChildThatIgnoresCancel(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const delay = 300 * time.Millisecond
	// sleep inherits SIGTERM ignored.
	p := spawn(t, tubo.CommandContext(ctx, "sh", "-c", `trap "" TERM; echo ready; exec sleep 30`).
		Stdout(tubo.StdioFile(w)).Cancel((*tubo.Process).Terminate).WaitDelay(delay))
	w.Close()
	if line := make([]byte, 6); !readFull(t, r, line) || string(line) != "ready\n" {
		t.Fatalf("the child did not start: %q", line)
	}
	start := time.Now()
	cancel()
	st := wait(t, p)
	if st.Signal() != syscall.SIGKILL {
		t.Fatalf("status = %v, want signal: killed (after SIGTERM was ignored)", st)
	}
	if elapsed := time.Since(start); elapsed < delay {
		t.Fatalf("killed after %v, before the WaitDelay of %v", elapsed, delay)
	}
	if err := p.ContextErr(); !errors.Is(err, context.Canceled) {
		t.Fatalf("ContextErr = %v, want context.Canceled (Terminate succeeded)", err)
	}
}

func readFull(t *testing.T, r io.Reader, b []byte) bool {
	t.Helper()
	_, err := io.ReadFull(r, b)
	return err == nil
}

func TestCommandContextNilCancelLeavesTheChildAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := spawn(t, tubo.CommandContext(ctx, "sleep", "30").Cancel(nil))
	cancel()
	short, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()
	if _, err := p.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want the child still running", err)
	}
	if err := p.ContextErr(); err != nil {
		t.Fatalf("ContextErr = %v, want nil (nothing was cancelled)", err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	wait(t, p)
}

func TestCommandContextReportsAFailedCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	refused := errors.New("refused")
	p := spawn(t, tubo.CommandContext(ctx, "sh", "-c", "sleep 0.5").Cancel(func(*tubo.Process) error { return refused }))
	cancel()
	if st := wait(t, p); !st.Success() {
		t.Fatalf("status = %v, want exit status 0", st)
	}
	err := p.ContextErr()
	if !errors.Is(err, refused) || !strings.Contains(err.Error(), "canceling process") {
		t.Fatalf("ContextErr = %v, want the Cancel error wrapped", err)
	}
}

func TestCommandContextExitBeforeTheContextIsNoError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := spawn(t, tubo.CommandContext(ctx, "true"))
	wait(t, p)
	cancel()
	if err := p.ContextErr(); err != nil {
		t.Fatalf("ContextErr = %v, want nil", err)
	}
}

func TestCancelAndWaitDelayNeedACommandContext(t *testing.T) {
	for name, c := range map[string]*tubo.Cmd{
		"Cancel":            tubo.Command("true").Cancel((*tubo.Process).Terminate),
		"WaitDelay":         tubo.Command("true").WaitDelay(time.Second),
		"negative":          tubo.CommandContext(context.Background(), "true").WaitDelay(-time.Second),
		"nil context":       tubo.CommandContext(nilContext(), "true"),
		"nil context, self": tubo.SelfContext(nilContext(), "sleep"),
	} {
		if _, err := c.Spawn(); !errors.Is(err, tubo.ErrInvalidArgument) {
			t.Errorf("%s: Spawn = %v, want ErrInvalidArgument", name, err)
		}
	}
}

func nilContext() context.Context { return nil }

// The watching goroutine ends when the child is reaped, closed or detached
// (goleak-style: the watchers are counted in the stacks of all goroutines,
// by the function that created them, so one not yet running counts too).
func TestCommandContextLeaksNoGoroutine(t *testing.T) {
	watchers := func() (int, string) {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		return strings.Count(stacks, "created by github.com/tubo/tubo/bindings/go.(*Cmd).watchContext "), stacks
	}
	settle := func(want int) (int, string) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, stacks := watchers()
			if n == want || time.Now().After(deadline) {
				return n, stacks
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if n, stacks := settle(0); n != 0 {
		t.Fatalf("%d watchers before the test:\n%s", n, stacks)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waited := spawn(t, tubo.CommandContext(ctx, "true"))
	closed := spawn(t, tubo.CommandContext(ctx, "sleep", "30"))
	if err := closed.SetStopSequence(0, syscall.SIGKILL, time.Second); err != nil {
		t.Fatal(err)
	}
	detached := spawn(t, tubo.CommandContext(ctx, "sleep", "0.1"))
	spawn(t, tubo.CommandContext(context.Background(), "true")) // never done: not watched
	if n, stacks := watchers(); n != 3 {
		t.Fatalf("%d watchers for three children with a context that can be done:\n%s", n, stacks)
	}
	wait(t, waited)
	closed.Close()
	if err := detached.Detach(); err != nil {
		t.Fatal(err)
	}
	if n, stacks := settle(0); n != 0 {
		t.Fatalf("%d watchers left after Wait, Close and Detach:\n%s", n, stacks)
	}
}
