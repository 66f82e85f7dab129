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

func TestExecExitCodeAndPathLookup(t *testing.T) {
	p := spawn(t, tubo.Command("sh", "-c", "exit 3"))
	if p.Pid() <= 0 {
		t.Fatal("no pid")
	}
	st := wait(t, p)
	if !st.Exited() || st.ExitCode() != 3 || st.ReturnCode() != 3 || st.Signaled() || st.Success() {
		t.Fatalf("status %v", st)
	}
	if st.String() != "exit status 3" {
		t.Fatalf("String() = %q", st.String())
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("Kill after the child was reaped: %v, want nil (nothing is sent)", err)
	}
	if err := p.Signal(syscall.Signal(1000)); err != nil && !errors.Is(err, tubo.ErrSystem) {
		t.Fatalf("a bad signal number: %v", err)
	}
	if again := wait(t, p); again != st {
		t.Fatalf("second Wait = %v", again)
	}
	if got, ok := p.Status(); !ok || got != st {
		t.Fatal("Status after Wait")
	}
}

// A program name built at run time lives on the Go heap; creating the
// command once panicked in cgo's pointer check ("Go pointer to Go pointer")
// because the handle was written through a pointer into the Cmd.
func TestCommandWithAHeapAllocatedProgramPath(t *testing.T) {
	path := filepath.Join("/", strings.Repeat("bin", 1), "sh")
	p := spawn(t, tubo.Command(path, "-c", "exit 4"))
	if st := wait(t, p); st.ExitCode() != 4 {
		t.Fatalf("status %v", st)
	}
}

func TestKillTerminateAndSignalGiveSignaledStatus(t *testing.T) {
	running := spawn(t, tubo.Command("sleep", "30"))
	if err := running.Signal(syscall.Signal(1000)); !errors.Is(err, tubo.ErrSystem) {
		t.Fatalf("a bad signal number: %v, want ErrSystem", err)
	}
	running.Kill()
	for _, tc := range []struct {
		send func(*tubo.Process) error
		sig  syscall.Signal
	}{
		{(*tubo.Process).Kill, syscall.SIGKILL},
		{(*tubo.Process).Terminate, syscall.SIGTERM},
		{func(p *tubo.Process) error { return p.Signal(syscall.SIGUSR1) }, syscall.SIGUSR1},
	} {
		p := spawn(t, tubo.Command("sleep", "30"))
		if err := tc.send(p); err != nil {
			t.Fatal(err)
		}
		st := wait(t, p)
		if !st.Signaled() || st.Signal() != tc.sig || st.ReturnCode() != -int(tc.sig) || st.ExitCode() != -1 || st.Exited() {
			t.Fatalf("after %v: status %v (code %d)", tc.sig, st, st.ReturnCode())
		}
	}
}

func TestWaitReturnsCtxErrWhenCancelledAndLeavesTheChildOwned(t *testing.T) {
	warmNetpoller(t)
	base := countFds(t)
	p := spawn(t, tubo.Command("sleep", "30"))
	withChild := countFds(t)
	goroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	// The Process keeps its wait (an epoll descriptor in the netpoller) for
	// the next Wait, until Close; a second Wait adds nothing.
	kept := countFds(t)
	if kept != withChild+1 {
		t.Fatalf("%d descriptors after a cancelled Wait, %d before", kept, withChild)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if _, err := p.Wait(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Wait = %v, want DeadlineExceeded", err)
	}
	if n := countFds(t); n != kept {
		t.Fatalf("%d descriptors after a second cancelled Wait, %d after the first", n, kept)
	}
	for deadline := time.Now().Add(time.Second); runtime.NumGoroutine() > goroutines; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after a cancelled Wait, %d before", runtime.NumGoroutine(), goroutines)
		}
		time.Sleep(time.Millisecond)
	}
	if _, done, _ := p.TryWait(); done {
		t.Fatal("the child did not keep running")
	}
	cancelled, c := context.WithCancel(context.Background())
	c()
	if _, err := p.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a done context = %v", err)
	}
	p.Kill()
	if st := wait(t, p); st.Signal() != syscall.SIGKILL {
		t.Fatalf("status %v", st)
	}
	p.Close()
	if n := countFds(t); n != base {
		t.Fatalf("%d descriptors after Close, %d before the spawn", n, base)
	}
}

// warmNetpoller makes Go's runtime open its netpoller descriptors (which it
// keeps for the life of the program) before a test counts descriptors.
func warmNetpoller(t *testing.T) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Close()
}

func TestKillFromAnotherGoroutineEndsAWait(t *testing.T) {
	p := spawn(t, tubo.Command("sleep", "30"))
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.Kill()
	}()
	if st, err := p.Wait(context.Background()); err != nil || st.Signal() != syscall.SIGKILL {
		t.Fatalf("Wait = %v, %v", st, err)
	}
}

func TestSpawnFailureNamesTheStageAndStillClosesTheEnds(t *testing.T) {
	base := countFds(t)
	r, w, _ := tubo.Pipe()
	_, err := tubo.Command("/nonexistent/program").Channel("in", r).Spawn()
	if !errors.Is(err, tubo.ErrSpawn) || !strings.Contains(err.Error(), "exec") ||
		!strings.Contains(err.Error(), "/nonexistent/program") {
		t.Fatalf("Spawn = %v, want ErrSpawn naming exec and the program", err)
	}
	if r.Fd() != -1 {
		t.Fatal("the channel end is still open in the parent")
	}
	// With the reader gone, the writer has no peer: the child never got it either.
	if err := w.Send([]byte("x")); !errors.Is(err, tubo.ErrPeerClosed) {
		t.Fatalf("Send = %v, want ErrPeerClosed", err)
	}
	w.Close()
	if _, err := tubo.Command("sh").Dir("/nonexistent/dir").Spawn(); !errors.Is(err, tubo.ErrSpawn) {
		t.Fatalf("bad Dir: %v", err)
	}
	if _, err := tubo.Command("no-such-program-in-path-xyz").Spawn(); !errors.Is(err, tubo.ErrSpawn) {
		t.Fatalf("PATH miss: %v", err)
	}
	if n := countFds(t); n != base {
		t.Fatalf("%d descriptors, %d before", n, base)
	}
}

func TestCommandEnvDirAndStdio(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	p := spawn(t, tubo.Command("sh", "-c", `echo "$FOO/${HOME-unset}"; pwd; cat`).
		Env("FOO", "bar").Unsetenv("HOME").Dir(dir).
		Stdin(tubo.StdioNull()).Stdout(tubo.StdioPath(out)).Stderr(tubo.StdioInherit()))
	if st := wait(t, p); !st.Success() {
		t.Fatal(st)
	}
	got, _ := os.ReadFile(out)
	if want := "bar/unset\n" + dir + "\n"; string(got) != want {
		t.Fatalf("output %q, want %q", got, want)
	}

	f, _ := os.Create(filepath.Join(dir, "env"))
	p = spawn(t, tubo.Command("/usr/bin/env").ClearEnv().Env("ONLY", "1").Stdout(tubo.StdioFile(f)))
	wait(t, p)
	f.Close() // the Cmd used a duplicate
	got, _ = os.ReadFile(filepath.Join(dir, "env"))
	if string(got) != "ONLY=1\n" {
		t.Fatalf("env output %q", got)
	}

	r, w := mustPipe(t)
	p = spawn(t, tubo.Command("printf", "raw").Argv0("printf").Stdout(tubo.StdioEnd(w)))
	wait(t, p)
	buf := make([]byte, 16)
	n, _ := syscall.Read(r.Fd(), buf)
	if string(buf[:n]) != "raw" {
		t.Fatalf("stdout through an end: %q", buf[:n])
	}
	if w.Fd() != -1 {
		t.Fatal("Stdout(StdioEnd(w)) did not consume w")
	}
}

func TestInvalidArgumentsAreReportedBySpawn(t *testing.T) {
	if _, err := tubo.Command("a\x00b").Spawn(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("NUL in program: %v", err)
	}
	if _, err := tubo.Command("true").Env("A", "x\x00y").Spawn(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("NUL in env: %v", err)
	}
	r, _ := mustPipe(t)
	if _, err := tubo.Command("true").Channel("bad name!", r).Spawn(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("bad channel name: %v", err)
	}
	if r.Fd() != -1 {
		t.Fatal("a rejected channel end stays open")
	}
	r2, _ := mustPipe(t)
	if _, err := tubo.Command("true").Channel("bad\x00name", r2).Spawn(); !errors.Is(err, tubo.ErrInvalidArgument) || r2.Fd() != -1 {
		t.Fatalf("NUL in a channel name: %v (end still open: %v)", err, r2.Fd() != -1)
	}
	if _, err := tubo.Command("true").Channel("nil", nil).Spawn(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("a nil end: %v", err)
	}
	if _, err := tubo.Command("true").Channel("in", r).Spawn(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("a consumed end handed over again: %v", err)
	}
	c := tubo.Command("true")
	c.Close()
	if _, err := c.Spawn(); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("Spawn after Close: %v", err)
	}
}

func TestSelfEntryWithChannels(t *testing.T) {
	inR, inW := mustPipe(t)
	outR, outW := mustPipe(t)
	p := spawn(t, tubo.Self("echo", ">").Channel("in", inR).Channel("out", outW))
	if inR.Fd() != -1 || outW.Fd() != -1 {
		t.Fatal("Channel did not consume the ends")
	}
	for _, m := range []string{"a", "", "bc"} {
		inW.Send([]byte(m))
		if got := string(mustRecv(t, outR)); got != ">"+m {
			t.Fatalf("echo %q", got)
		}
	}
	inW.Close()
	if _, err := outR.Recv(); err != io.EOF {
		t.Fatalf("after the worker finished: %v", err)
	}
	if st := wait(t, p); !st.Success() {
		t.Fatal(st)
	}
}

func TestSelfEntryWithADuplexChannel(t *testing.T) {
	mine, theirs := mustDuplex(t)
	p := spawn(t, tubo.Self("echo_duplex").Channel("io", theirs))
	mine.Send([]byte("ping"))
	if got := string(mustRecv(t, mine)); got != "ping" {
		t.Fatal(got)
	}
	mine.CloseWrite()
	if _, err := mine.Recv(); err != io.EOF {
		t.Fatal(err)
	}
	if st := wait(t, p); !st.Success() {
		t.Fatal(st)
	}
}

func TestSelfEntryExitCodesAndPanics(t *testing.T) {
	if st := wait(t, spawn(t, tubo.Self("exit_with", "7"))); st.ExitCode() != 7 {
		t.Fatal(st)
	}
	p := spawn(t, tubo.Self("panics").Stderr(tubo.StdioNull()))
	if st := wait(t, p); st.ExitCode() != 1 {
		t.Fatalf("a panicking entry: %v", st)
	}
}

func TestWorkerChannelChecks(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"c", "r"}, 0},
		{[]string{"c", "w"}, 3},          // wrong mode
		{[]string{"missing", "r"}, 3},    // missing name
		{[]string{"c", "r", "twice"}, 3}, // already taken
	} {
		r, _ := mustPipe(t)
		st := wait(t, spawn(t, tubo.Self("take", tc.args...).Channel("c", r)))
		if st.ExitCode() != tc.want {
			t.Errorf("take %v: exit %v, want %d", tc.args, st, tc.want)
		}
	}
}

func TestEntryRegistrationErrors(t *testing.T) {
	if err := tubo.RegisterEntry("echo", entryEcho); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("a taken name: %v", err)
	}
	if err := tubo.RegisterEntry("not valid", entryEcho); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("an invalid name: %v", err)
	}
	if err := tubo.RegisterEntry("nilfn", nil); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("a nil function: %v", err)
	}
	if _, err := tubo.Self("never_registered").Spawn(); !errors.Is(err, tubo.ErrSpawn) {
		t.Fatalf("an unknown entry: %v", err)
	}
}

func TestCloseStopsAndReapsARunningChild(t *testing.T) {
	p, err := tubo.Self("sleep").Spawn()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetStopSequence(0, syscall.SIGTERM, time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := syscall.Kill(p.Pid(), 0); err != syscall.ESRCH {
		t.Fatalf("the child is still there (kill 0: %v)", err)
	}
	if err := p.Kill(); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("Kill after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDetachLeavesTheChildRunning(t *testing.T) {
	p, err := tubo.Command("sleep", "30").Spawn()
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the detached child is gone: %v", err)
	}
	if _, err := p.Wait(context.Background()); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("Wait after Detach: %v", err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}
