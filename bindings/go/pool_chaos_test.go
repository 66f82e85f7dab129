package tubo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// chaosWorkers is the chaos run's pool size.
const chaosWorkers = 2

// entryPoolChaosWorker is the chaos run's worker: it appends "start <pid>"
// to POOL_TEST_LOG (one write, O_APPEND), so the test counts the workers
// started, then serves runPoolTask, which logs each task the same way.
func entryPoolChaosWorker([]string) int {
	if log := os.Getenv("POOL_TEST_LOG"); log != "" {
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pool_chaos_worker:", err)
			return 1
		}
		f.Write([]byte("start " + strconv.Itoa(os.Getpid()) + "\n"))
		f.Close()
	}
	return tubo.ServePoolTasks(runPoolTask)
}

// chaosTasks is the task count: TUBO_CHAOS_TASKS (default 10 000) scaled by
// TUBO_STRESS_SCALE, at least 1.
func chaosTasks(t *testing.T) int {
	n := 10000
	if s := os.Getenv("TUBO_CHAOS_TASKS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("TUBO_CHAOS_TASKS=%q: want a positive whole number of tasks", s)
		}
		n = v
	}
	if s := os.Getenv("TUBO_STRESS_SCALE"); s != "" {
		scale, err := strconv.ParseFloat(s, 64)
		if err != nil || !(scale > 0) {
			t.Fatalf("TUBO_STRESS_SCALE=%q: want a positive number", s)
		}
		n = int(float64(n) * scale)
	}
	return max(n, 1)
}

// childCount is the number of this process's children (every thread's
// /proc/self/task/N/children).
func childCount(t *testing.T) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "children"))
		if err != nil {
			continue // the thread is gone
		}
		n += len(strings.Fields(string(data)))
	}
	return n
}

// TestPoolChaos: N tasks (chaosTasks), 1 % SIGKILL their worker, 1 % fail:
// every other result is right, exactly the killers fail with ErrWorkerDied
// and the failers with their message, every task runs exactly once (the
// log), nothing hangs (a deadline), no descriptor or child is left. Prints
// one "STRESS pool chaos [go]: ..." line.
func TestPoolChaos(t *testing.T) {
	n := chaosTasks(t)
	log := filepath.Join(t.TempDir(), "executions")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A first pool, so what the library opens once for good is not counted.
	first, err := tubo.NewPool(tubo.PoolSelf("pool_chaos_worker"), tubo.PoolOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	first.Terminate()
	fds, children := countFds(t), childCount(t)

	start := tubo.PoolSelf("pool_chaos_worker")
	start.Env = []string{"POOL_TEST_LOG=" + log}
	p := newPool(t, start, tubo.PoolOptions{Workers: chaosWorkers})
	isKiller := func(i int) bool { return i%100 == 37 }
	isFailer := func(i int) bool { return i%100 == 71 }
	var inputs []string
	killers, failers := 0, 0
	for i := 0; i < n; i++ {
		switch {
		case isKiller(i):
			inputs = append(inputs, "kill "+strconv.Itoa(i))
			killers++
		case isFailer(i):
			inputs = append(inputs, "fail message "+strconv.Itoa(i))
			failers++
		default:
			inputs = append(inputs, "echo "+strconv.Itoa(i))
		}
	}
	// A hang shows as the deadline: a minute, and a millisecond a task.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+time.Duration(n)*time.Millisecond)
	defer cancel()
	seen := make([]int, n)
	died, failed, right := 0, 0, 0
	taken := 0
	begin := time.Now()
	err = p.MapUnordered(ctx, seq(inputs, &taken), func(i int, got []byte, err error) bool {
		seen[i]++
		switch {
		case isKiller(i):
			if errors.Is(err, tubo.ErrWorkerDied) {
				died++
			} else {
				t.Errorf("killer %d: %q, %v", i, got, err)
			}
		case isFailer(i):
			if errors.Is(err, tubo.ErrTaskFailed) && err.Error() == "message "+strconv.Itoa(i) {
				failed++
			} else {
				t.Errorf("failer %d: %v", i, err)
			}
		case err != nil || string(got) != strconv.Itoa(i):
			t.Errorf("task %d: %q, %v", i, got, err)
		default:
			right++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(begin)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("outcome %d given %d times", i, c)
		}
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	started := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "start ") {
			started++
		} else {
			runs[line]++
		}
	}
	duplicates := 0
	for _, in := range inputs {
		if runs[in] != 1 {
			t.Errorf("%q ran %d times", in, runs[in])
		}
		if runs[in] > 1 {
			duplicates++
		}
	}
	if len(runs) != n {
		t.Errorf("%d distinct tasks in the log, want %d", len(runs), n)
	}
	leakedFds, leakedChildren := countFds(t)-fds, childCount(t)-children
	fmt.Printf("STRESS pool chaos [go]: %d tasks (%d killers, %d raisers) on %d workers in %.2f s: "+
		"%.0f tasks/s, %d workers started, %d duplicates, %d leaked fds, %d leaked children\n",
		n, killers, failers, chaosWorkers, elapsed.Seconds(), float64(n)/elapsed.Seconds(), started,
		duplicates, leakedFds, leakedChildren)
	if died != killers || failed != failers || right != n-killers-failers {
		t.Errorf("%d died, %d failed, %d right; want %d, %d, %d", died, failed, right, killers, failers, n-killers-failers)
	}
	if started < chaosWorkers+killers {
		t.Errorf("%d workers started, want at least %d", started, chaosWorkers+killers)
	}
	if leakedFds != 0 || leakedChildren != 0 {
		t.Errorf("%d descriptors and %d children more than before the pool", leakedFds, leakedChildren)
	}
}
