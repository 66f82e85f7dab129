package tubo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// runPoolTask is the Go pool worker's task language, the one of
// tests/pool/workers.h: "echo X" returns X, "fail MSG" fails with MSG, "kill
// X" SIGKILLs the worker, "sleep MS" sleeps and returns "slept", "pid X"
// returns the worker's pid, "alloc MB" allocates and touches MB MiB (kept)
// and returns "ok", "grandchild MS" starts `sleep` for MS ms in the worker's
// process group, writes its pid to the file POOL_TEST_GRANDCHILD names, then
// sleeps MS ms and returns that pid. With POOL_TEST_LOG set, each task is
// first appended to that file (one write), so tests count executions.
func runPoolTask(task []byte) ([]byte, error) {
	if log := os.Getenv("POOL_TEST_LOG"); log != "" {
		if f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			f.Write(append(append([]byte(nil), task...), '\n'))
			f.Close()
		}
	}
	op, arg, _ := strings.Cut(string(task), " ")
	switch op {
	case "echo":
		return []byte(arg), nil
	case "fail":
		return nil, errors.New(arg)
	case "kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "sleep":
		ms, _ := strconv.Atoi(arg)
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return []byte("slept"), nil
	case "pid":
		return []byte(strconv.Itoa(os.Getpid())), nil
	case "alloc":
		mb, _ := strconv.Atoi(arg)
		block := make([]byte, mb<<20)
		for i := 0; i < len(block); i += 4096 {
			block[i] = 1
		}
		allocated = append(allocated, block) // kept: the worker's RSS grows
		return []byte("ok"), nil
	case "grandchild":
		ms, _ := strconv.Atoi(arg)
		sleep := exec.Command("sleep", strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64))
		if err := sleep.Start(); err != nil {
			return nil, err
		}
		pid := strconv.Itoa(sleep.Process.Pid)
		if file := os.Getenv("POOL_TEST_GRANDCHILD"); file != "" {
			if err := os.WriteFile(file, []byte(pid), 0o644); err != nil {
				return nil, err
			}
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		sleep.Wait()
		return []byte(pid), nil
	}
	return nil, fmt.Errorf("unknown task %q", task)
}

// allocated keeps what "alloc" tasks allocated.
var allocated [][]byte

// workerPath is the worker program named by the environment variable (set
// by go_test.sh to a Bazel-built worker); the test is skipped without it.
func workerPath(t *testing.T, variable string) string {
	t.Helper()
	path := os.Getenv(variable)
	if path == "" {
		t.Skipf("%s is not set (go_test.sh sets it)", variable)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s: %v", variable, err)
	}
	return path
}

func newPool(t *testing.T, start tubo.PoolStart, opts tubo.PoolOptions) *tubo.Pool {
	t.Helper()
	p, err := tubo.NewPool(start, opts)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { p.Terminate() })
	return p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func submit(t *testing.T, p *tubo.Pool, task string) *tubo.Task {
	t.Helper()
	task_, err := p.Submit(testCtx(t), []byte(task))
	if err != nil {
		t.Fatalf("Submit(%q): %v", task, err)
	}
	return task_
}

func TestPoolRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name  string
		start func(t *testing.T) tubo.PoolStart
		want  func(i int) string
	}{
		{"go self", func(*testing.T) tubo.PoolStart { return tubo.PoolSelf("pool_worker") }, strconv.Itoa},
		{"c++ exec", func(t *testing.T) tubo.PoolStart {
			return tubo.PoolCommand(workerPath(t, "TUBO_TEST_CPP_POOL_WORKER"))
		}, strconv.Itoa},
		{"c exec", func(t *testing.T) tubo.PoolStart {
			return tubo.PoolCommand(workerPath(t, "TUBO_TEST_C_POOL_WORKER"))
		}, strconv.Itoa},
		{"stdlib python", func(t *testing.T) tubo.PoolStart {
			return tubo.PoolCommand("python3", workerPath(t, "TUBO_TEST_STDLIB_POOL_WORKER"))
		}, func(i int) string { return "ECHO " + strconv.Itoa(i) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPool(t, c.start(t), tubo.PoolOptions{Workers: 2})
			var tasks []*tubo.Task
			for i := 0; i < 40; i++ {
				tasks = append(tasks, submit(t, p, "echo "+strconv.Itoa(i)))
			}
			for i, task := range tasks {
				got, err := task.Result(testCtx(t))
				if err != nil || string(got) != c.want(i) {
					t.Fatalf("task %d: %q, %v; want %q", i, got, err, c.want(i))
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPoolFailingTaskGivesItsMessage(t *testing.T) {
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 1})
	bad := submit(t, p, "fail no such thing")
	good := submit(t, p, "echo after")
	_, err := bad.Result(testCtx(t))
	if !errors.Is(err, tubo.ErrTaskFailed) || err.Error() != "no such thing" {
		t.Fatalf("got %v, want ErrTaskFailed \"no such thing\"", err)
	}
	if got, err := good.Result(testCtx(t)); err != nil || string(got) != "after" {
		t.Fatalf("the next task: %q, %v", got, err)
	}
}

func TestPoolWorkerKilledMidTaskIsBlamedExactly(t *testing.T) {
	for _, c := range []struct {
		name  string
		start func(t *testing.T) tubo.PoolStart
	}{
		{"go self", func(*testing.T) tubo.PoolStart { return tubo.PoolSelf("pool_worker") }},
		{"c++ exec", func(t *testing.T) tubo.PoolStart {
			return tubo.PoolCommand(workerPath(t, "TUBO_TEST_CPP_POOL_WORKER"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPool(t, c.start(t), tubo.PoolOptions{Workers: 2})
			var tasks []*tubo.Task
			for i := 0; i < 30; i++ {
				task := "echo " + strconv.Itoa(i)
				if i%10 == 3 {
					task = "kill " + strconv.Itoa(i)
				}
				tasks = append(tasks, submit(t, p, task))
			}
			for i, task := range tasks {
				got, err := task.Result(testCtx(t))
				if i%10 != 3 {
					if err != nil || string(got) != strconv.Itoa(i) {
						t.Fatalf("task %d: %q, %v", i, got, err)
					}
					continue
				}
				if !errors.Is(err, tubo.ErrWorkerDied) {
					t.Fatalf("task %d: %v, want ErrWorkerDied", i, err)
				}
				want := fmt.Sprintf("task %d: worker pid ", task.ID())
				if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "signaled(9)") {
					t.Fatalf("task %d: %q does not name %q and signaled(9)", i, err, want)
				}
			}
		})
	}
}

func TestPoolCancelATaskNotYetSent(t *testing.T) {
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 1, Prefetch: -1})
	running := submit(t, p, "sleep 300")
	queued := submit(t, p, "echo never")
	if !queued.Cancel() {
		t.Fatal("Cancel of a queued task: false")
	}
	if _, err := queued.Result(testCtx(t)); !errors.Is(err, tubo.ErrCancelled) {
		t.Fatalf("cancelled task: %v", err)
	}
	if got, err := running.Result(testCtx(t)); err != nil || string(got) != "slept" {
		t.Fatalf("running task: %q, %v", got, err)
	}
	if running.Cancel() {
		t.Fatal("Cancel of a done task: true")
	}
}

func TestPoolResultHonoursItsContext(t *testing.T) {
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 1})
	slow := submit(t, p, "sleep 2000")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := slow.Result(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Result with a short context: %v", err)
	}
}

func TestPoolCloseFinishesTerminateCancels(t *testing.T) {
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 2})
	var tasks []*tubo.Task
	for i := 0; i < 4; i++ {
		tasks = append(tasks, submit(t, p, "sleep 100"))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if !task.Done() {
			t.Fatal("a task not done after Close")
		}
		if got, err := task.Result(testCtx(t)); err != nil || string(got) != "slept" {
			t.Fatalf("after Close: %q, %v", got, err)
		}
	}
	if _, err := p.Submit(testCtx(t), []byte("echo late")); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}

	q := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 1})
	long := submit(t, q, "sleep 10000")
	queued := submit(t, q, "echo queued")
	start := time.Now()
	if err := q.Terminate(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Terminate took %v", time.Since(start))
	}
	for _, task := range []*tubo.Task{long, queued} {
		if _, err := task.Result(testCtx(t)); !errors.Is(err, tubo.ErrCancelled) {
			t.Fatalf("after Terminate: %v", err)
		}
	}
	if err := q.Terminate(); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("second Terminate: %v", err)
	}
}

func TestPoolOptionErrors(t *testing.T) {
	if _, err := tubo.NewPool(tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: -1}); !errors.Is(err, tubo.ErrInvalidArgument) || !strings.Contains(err.Error(), "TUBO_POOL_WORKERS is -1") {
		t.Fatalf("Workers -1: %v", err)
	}
	if _, err := tubo.NewPool(tubo.PoolCommand(""), tubo.PoolOptions{}); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("empty program: %v", err)
	}
	start := tubo.PoolSelf("pool_worker")
	start.Env = []string{"NOEQUALS"}
	if _, err := tubo.NewPool(start, tubo.PoolOptions{}); !errors.Is(err, tubo.ErrInvalidArgument) || !strings.Contains(err.Error(), "NOEQUALS") {
		t.Fatalf("bad Env: %v", err)
	}
	if _, err := tubo.NewPool(tubo.PoolSelf("pool_worker"), tubo.PoolOptions{RestartDelay: time.Second, MaxRestartDelay: time.Millisecond}); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("restart delays that disagree: %v", err)
	}
}

// seq yields the inputs and counts how many were taken.
func seq(inputs []string, taken *int) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for _, s := range inputs {
			*taken++
			if !yield([]byte(s)) {
				return
			}
		}
	}
}

func TestPoolMapOrderedWithABoundedWindow(t *testing.T) {
	const window = 4
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 2, MaxInFlight: window})
	var inputs []string
	for i := 0; i < 100; i++ {
		inputs = append(inputs, "echo "+strconv.Itoa(i))
	}
	inputs[17] = "fail seventeen"
	taken, next := 0, 0
	err := p.Map(testCtx(t), seq(inputs, &taken), func(i int, got []byte, err error) bool {
		if i != next {
			t.Fatalf("outcome %d arrived in place %d", i, next)
		}
		next++
		if taken > i+1+window {
			t.Fatalf("at outcome %d, %d inputs taken (window %d)", i, taken, window)
		}
		if i == 17 {
			if !errors.Is(err, tubo.ErrTaskFailed) {
				t.Fatalf("outcome 17: %v", err)
			}
		} else if err != nil || string(got) != strconv.Itoa(i) {
			t.Fatalf("outcome %d: %q, %v", i, got, err)
		}
		return true
	})
	if err != nil || next != 100 {
		t.Fatalf("Map: %v after %d outcomes", err, next)
	}
}

func TestPoolMapUnorderedAndStop(t *testing.T) {
	// No prefetch: the echoes go to the other worker, not behind the sleep.
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 2, Prefetch: -1})
	inputs := []string{"sleep 300", "echo 1", "echo 2", "echo 3"}
	taken := 0
	var order []int
	err := p.MapUnordered(testCtx(t), seq(inputs, &taken), func(i int, got []byte, err error) bool {
		if err != nil {
			t.Fatalf("outcome %d: %v", i, err)
		}
		order = append(order, i)
		return true
	})
	if err != nil || len(order) != 4 || order[3] != 0 {
		t.Fatalf("MapUnordered: %v, order %v (the slow task last)", err, order)
	}
	// each returning false stops the map.
	calls := 0
	err = p.Map(testCtx(t), seq([]string{"echo a", "echo b", "echo c"}, &taken), func(int, []byte, error) bool {
		calls++
		return false
	})
	if err != nil || calls != 1 {
		t.Fatalf("a stopped Map: %v after %d calls", err, calls)
	}
}

func TestPoolLeavesNoGoroutinesOrDescriptors(t *testing.T) {
	fds := countFds(t)
	goroutines := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		p, err := tubo.NewPool(tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		killed := submit(t, p, "kill 1")
		ok := submit(t, p, "echo ok")
		if _, err := killed.Result(testCtx(t)); !errors.Is(err, tubo.ErrWorkerDied) {
			t.Fatalf("kill: %v", err)
		}
		if _, err := ok.Result(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			err = p.Terminate()
		} else {
			err = p.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > goroutines; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after three pools, %d before", runtime.NumGoroutine(), goroutines)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := countFds(t); got != fds {
		t.Fatalf("%d descriptors after three pools, %d before", got, fds)
	}
}

// waitKeys waits on set for at most d; nil when nothing became ready.
func waitKeys(t *testing.T, set *tubo.WaitSet, d time.Duration) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	keys, err := set.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return keys
}

// TestWaitSetReportsTasksBesideEndsAndProcesses: one WaitSet over a pipe's
// End, a Process and two pool Tasks, one running (its worker then SIGKILLed
// by the test) and one queued behind it, reports each only once it is ready;
// a task done before AddTask is ready at once; the AddTask errors; a task
// whose pool is terminated is reported too.
func TestWaitSetReportsTasksBesideEndsAndProcesses(t *testing.T) {
	log := filepath.Join(t.TempDir(), "executions")
	start := tubo.PoolSelf("pool_worker")
	start.Env = []string{"POOL_TEST_LOG=" + log}
	p := newPool(t, start, tubo.PoolOptions{Workers: 1})
	running := submit(t, p, "sleep 60000")
	queued := submit(t, p, "echo after")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(log); strings.Contains(string(b), "sleep 60000") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not start the sleeping task")
		}
	}
	set, err := tubo.NewWaitSet()
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	r, w := mustPipe(t)
	proc := spawn(t, tubo.Command("sleep", "60"))
	for _, add := range []error{
		set.AddEnd(r, 1), set.AddProcess(proc, 2), set.AddTask(running, 3), set.AddTask(queued, 4),
	} {
		if add != nil {
			t.Fatal(add)
		}
	}
	if err := set.AddTask(nil, 5); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("AddTask(nil) = %v, want ErrInvalidArgument", err)
	}
	if err := set.AddTask(queued, 3); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("AddTask under a key in use = %v, want ErrInvalidArgument", err)
	}
	if err := set.AddTask(queued, 5); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("AddTask of a task already in the set = %v, want ErrInvalidArgument", err)
	}
	if set.Len() != 4 {
		t.Fatalf("Len = %d, want 4", set.Len())
	}
	if keys := waitKeys(t, set, 100*time.Millisecond); keys != nil {
		t.Fatalf("nothing is ready yet, Wait = %v", keys)
	}
	// The End.
	if err := w.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if keys := waitKeys(t, set, time.Minute); fmt.Sprint(keys) != "[1]" {
		t.Fatalf("after a send: %v, want [1]", keys)
	}
	if _, err := r.Recv(); err != nil {
		t.Fatal(err)
	}
	// The Process.
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	if keys := waitKeys(t, set, time.Minute); fmt.Sprint(keys) != "[2]" {
		t.Fatalf("after the process's kill: %v, want [2]", keys)
	}
	if _, err := proc.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := set.Remove(2); err != nil {
		t.Fatal(err)
	}
	// The running task, whose worker is killed; then the one queued behind
	// it runs on the replacement worker.
	if running.Done() || queued.Done() {
		t.Fatal("a task is done before its worker was killed")
	}
	pids := p.WorkerPids()
	if len(pids) != 1 {
		t.Fatalf("worker pids %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	keys := waitKeys(t, set, time.Minute)
	if len(keys) == 0 || keys[0] != 3 || !running.Done() {
		t.Fatalf("after the worker's kill: %v (running done: %v), want 3 first", keys, running.Done())
	}
	if _, err := running.Result(testCtx(t)); !errors.Is(err, tubo.ErrWorkerDied) {
		t.Fatalf("the killed task: %v, want ErrWorkerDied", err)
	}
	if err := set.Remove(3); err != nil {
		t.Fatal(err)
	}
	if keys := waitKeys(t, set, time.Minute); fmt.Sprint(keys) != "[4]" || !queued.Done() {
		t.Fatalf("the queued task: %v (done: %v), want [4]", keys, queued.Done())
	}
	if got, err := queued.Result(testCtx(t)); err != nil || string(got) != "after" {
		t.Fatalf("the queued task: %q, %v", got, err)
	}
	// A done task is ready at once, and stays so.
	if err := set.Remove(4); err != nil {
		t.Fatal(err)
	}
	if err := set.AddTask(queued, 6); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if keys := waitKeys(t, set, time.Minute); fmt.Sprint(keys) != "[6]" {
			t.Fatalf("a task done before AddTask: %v, want [6]", keys)
		}
	}
	if err := set.Remove(6); err != nil {
		t.Fatal(err)
	}
	// Terminating the pool fails a task in the set, which is then reported.
	last := submit(t, p, "sleep 60000")
	if err := set.AddTask(last, 7); err != nil {
		t.Fatal(err)
	}
	if keys := waitKeys(t, set, 100*time.Millisecond); keys != nil {
		t.Fatalf("before Terminate: %v", keys)
	}
	if err := p.Terminate(); err != nil {
		t.Fatal(err)
	}
	if keys := waitKeys(t, set, time.Minute); fmt.Sprint(keys) != "[7]" {
		t.Fatalf("after Terminate: %v, want [7]", keys)
	}
	if _, err := last.Result(testCtx(t)); !errors.Is(err, tubo.ErrCancelled) {
		t.Fatalf("a task of a terminated pool: %v, want ErrCancelled", err)
	}
	set.Close()
	if err := set.AddTask(last, 8); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("AddTask on a closed set = %v, want ErrClosed", err)
	}
}
