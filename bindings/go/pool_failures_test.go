package tubo_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// When workers fail (tests/pool/failures_test.cc, through the Go binding): a
// task past its timeout stops its worker's whole process group, retries run
// a task whose worker died again, and a worker program that cannot start
// makes the pool give up, after the bounded number of tries, saying why.

// executionCounts is how many times each line appears in the file at path
// (the POOL_TEST_LOG execution log).
func executionCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line != "" {
			counts[line]++
		}
	}
	return counts
}

// waitForLine waits until the file at path holds line.
func waitForLine(t *testing.T, path, line string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); executionCounts(t, path)[line] == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never appeared in %s", line, path)
		}
	}
}

// alive reports whether pid names a live process (not a zombie).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	paren := strings.LastIndexByte(string(stat), ')')
	return paren >= 0 && paren+2 < len(stat) && stat[paren+2] != 'Z'
}

func TestPoolTaskTimeoutStopsTheWorkerAndItsGroup(t *testing.T) {
	grandchild := filepath.Join(t.TempDir(), "grandchild.pid")
	start := tubo.PoolSelf("pool_worker")
	start.Env = []string{"POOL_TEST_GRANDCHILD=" + grandchild}
	p := newPool(t, start, tubo.PoolOptions{Workers: 1, TaskTimeout: 300 * time.Millisecond})
	before, err := submit(t, p, "pid x").Result(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	slow := submit(t, p, "grandchild 20000")
	next := submit(t, p, "pid y") // queued behind it: runs on the new worker
	_, err = slow.Result(testCtx(t))
	if !errors.Is(err, tubo.ErrTimeout) || !strings.Contains(err.Error(), fmt.Sprintf("task %d timed out", slow.ID())) {
		t.Fatalf("the slow task: %v, want ErrTimeout naming task %d", err, slow.ID())
	}
	if took := time.Since(began); took < 300*time.Millisecond || took > 5*time.Second {
		t.Fatalf("the timeout of 300 ms took %v", took)
	}
	after, err := next.Result(testCtx(t))
	if err != nil || string(after) == string(before) {
		t.Fatalf("the task after the timeout: %q, %v (the worker before: %s)", after, err, before)
	}
	for _, name := range []string{"worker", "grandchild"} {
		pid, _ := strconv.Atoi(string(before))
		if name == "grandchild" {
			b, err := os.ReadFile(grandchild)
			if err != nil {
				t.Fatalf("the worker did not start its grandchild: %v", err)
			}
			pid, _ = strconv.Atoi(string(b))
		}
		for deadline := time.Now().Add(2 * time.Second); alive(pid); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the timed-out task's %s (pid %d) survived", name, pid)
			}
		}
	}
	// The pool goes on.
	if got, err := submit(t, p, "echo on").Result(testCtx(t)); err != nil || string(got) != "on" {
		t.Fatalf("after the timeout: %q, %v", got, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPoolRetriesRunATaskWhoseWorkerDiedAgain(t *testing.T) {
	log := filepath.Join(t.TempDir(), "executions")
	start := tubo.PoolSelf("pool_worker")
	start.Env = []string{"POOL_TEST_LOG=" + log}
	p := newPool(t, start, tubo.PoolOptions{Workers: 1, Retries: 1})
	// A task that kills every worker it runs on: run twice, then failed.
	killer := submit(t, p, "kill always")
	_, err := killer.Result(testCtx(t))
	if !errors.Is(err, tubo.ErrWorkerDied) || !strings.Contains(err.Error(), "after 1 retries") {
		t.Fatalf("the killer task: %v, want ErrWorkerDied \"after 1 retries\"", err)
	}
	// An idempotent task whose first worker dies under it (killed here while
	// it runs) succeeds on its retry.
	sleeper := submit(t, p, "sleep 1000")
	waitForLine(t, log, "sleep 1000")
	pids := p.WorkerPids() // one worker: the one running the task
	if len(pids) != 1 {
		t.Fatalf("worker pids %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got, err := sleeper.Result(testCtx(t)); err != nil || string(got) != "slept" {
		t.Fatalf("the retried task: %q, %v; want \"slept\"", got, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	counts := executionCounts(t, log)
	if counts["kill always"] != 2 || counts["sleep 1000"] != 2 {
		t.Fatalf("executions %v, want the killer and the sleeper twice each", counts)
	}
}

func TestPoolGivesUpOnAWorkerThatCannotStartSayingWhy(t *testing.T) {
	starts := filepath.Join(t.TempDir(), "starts")
	// Each start is counted, then the worker exits before it is ready.
	start := tubo.PoolCommand("/bin/sh", "-c", `echo start >> "$0"; echo the config is missing >&2; exit 3`, starts)
	start.CaptureStderr = true
	began := time.Now()
	p := newPool(t, start, tubo.PoolOptions{
		Workers: 1, MaxStartFailures: 3, RestartDelay: 100 * time.Millisecond, MaxRestartDelay: time.Second,
	})
	task := submit(t, p, "echo x")
	_, err := task.Result(testCtx(t))
	if !errors.Is(err, tubo.ErrSpawn) {
		t.Fatalf("a task of a pool whose workers cannot start: %v, want ErrSpawn", err)
	}
	for _, why := range []string{"3 consecutive worker start failures", "exited(3) before it was ready", "the config is missing"} {
		if !strings.Contains(err.Error(), why) {
			t.Errorf("%q does not say %q", err, why)
		}
	}
	// Three tries, the second 100 ms after the first, the third 200 ms after.
	if n := executionCounts(t, starts)["start"]; n != 3 {
		t.Errorf("%d worker starts, want 3", n)
	}
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Errorf("gave up after %v, before the restart delays (100 ms, then 200 ms)", took)
	}
	if _, err := p.Submit(testCtx(t), []byte("echo y")); !errors.Is(err, tubo.ErrSpawn) {
		t.Fatalf("Submit once the pool gave up: %v, want ErrSpawn", err)
	}
}
