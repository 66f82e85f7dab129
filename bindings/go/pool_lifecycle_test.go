package tubo_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// A pool's workers over its life (tests/pool/lifecycle_test.cc, through the
// Go binding): recycled after MaxTasksPerWorker tasks or above MaxWorkerRSS,
// and one pool fed from many goroutines at once.

// pidsOf runs the tasks in order, one after the other, and gives their
// results (each a worker pid).
func pidsOf(t *testing.T, p *tubo.Pool, tasks ...string) []string {
	t.Helper()
	var pids []string
	for _, task := range tasks {
		got, err := submit(t, p, task).Result(testCtx(t))
		if err != nil {
			t.Fatalf("%q: %v", task, err)
		}
		pids = append(pids, string(got))
	}
	return pids
}

func TestPoolRecyclesAfterMaxTasksPerWorker(t *testing.T) {
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 1, MaxTasksPerWorker: 2})
	var tasks []*tubo.Task
	for i := 0; i < 6; i++ {
		tasks = append(tasks, submit(t, p, fmt.Sprintf("pid %d", i)))
	}
	var pids []string
	for i, task := range tasks {
		got, err := task.Result(testCtx(t))
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		pids = append(pids, string(got))
	}
	distinct := map[string]bool{}
	for _, pid := range pids {
		distinct[pid] = true
	}
	if pids[0] != pids[1] || pids[2] != pids[3] || pids[4] != pids[5] || len(distinct) != 3 {
		t.Fatalf("worker pids %v, want a new worker every 2 tasks", pids)
	}
	// The three workers, each recycled after its second task, leave
	// WorkerPids; the one there then is a fourth, which runs the next task.
	var now []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		now = p.WorkerPids()
		if len(now) == 1 && !distinct[strconv.Itoa(now[0])] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WorkerPids %v, want one worker, none of the recycled %v", now, pids)
		}
	}
	if next := pidsOf(t, p, "pid 6")[0]; next != strconv.Itoa(now[0]) {
		t.Fatalf("the next task ran on worker %s, WorkerPids said %v", next, now)
	}
}

func TestPoolRecyclesAWorkerAboveTheMemoryCeiling(t *testing.T) {
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 1, MaxWorkerRSS: 64 << 20})
	pids := pidsOf(t, p, "pid a", "pid b") // small: kept
	if pids[0] != pids[1] {
		t.Fatalf("a worker under the ceiling was recycled: %v", pids)
	}
	if got, err := submit(t, p, "alloc 100").Result(testCtx(t)); err != nil || string(got) != "ok" {
		t.Fatalf("alloc 100: %q, %v", got, err)
	}
	if after := pidsOf(t, p, "pid c")[0]; after == pids[0] {
		t.Fatalf("the worker above the ceiling (pid %s) was kept", after)
	}
}

func TestPoolSubmitFromManyGoroutinesAtOnce(t *testing.T) {
	const goroutines, each = 8, 50
	// A small window: the goroutines also wait for room together.
	p := newPool(t, tubo.PoolSelf("pool_worker"), tubo.PoolOptions{Workers: 2, MaxInFlight: 8})
	var (
		mu  sync.Mutex
		ids = map[uint64]string{}
		wg  sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var tasks []*tubo.Task
			for i := 0; i < each; i++ {
				want := fmt.Sprintf("%d.%d", g, i)
				task, err := p.Submit(ctx, []byte("echo "+want))
				if err != nil {
					t.Errorf("goroutine %d: Submit %d: %v", g, i, err)
					return
				}
				mu.Lock()
				if other, dup := ids[task.ID()]; dup {
					t.Errorf("id %d given to %s and %s", task.ID(), other, want)
				}
				ids[task.ID()] = want
				mu.Unlock()
				tasks = append(tasks, task)
				if i%2 == 1 { // half waited for at once, half at the end
					if got, err := task.Result(ctx); err != nil || string(got) != want {
						t.Errorf("task %s: %q, %v", want, got, err)
					}
				}
			}
			for i, task := range tasks {
				want := fmt.Sprintf("%d.%d", g, i)
				if got, err := task.Result(ctx); err != nil || string(got) != want {
					t.Errorf("task %s: %q, %v", want, got, err)
				}
			}
		}(g)
	}
	wg.Wait()
	if len(ids) != goroutines*each {
		t.Fatalf("%d distinct ids for %d tasks", len(ids), goroutines*each)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
