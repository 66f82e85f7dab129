// go_pool_parent: the Go pool of the cross-language pool matrix. It starts a
// tubo.Pool of 2 workers with the exec start method of the worker program,
// submits the matrix's 50 tasks (the task convention and the expected
// outcomes are in tests/interop/pool_matrix_test.py's file comment), checks
// every outcome in submission order, closes the pool and checks that this
// process has no child left. It prints one summary line ("go_pool_parent: OK
// ..." or "go_pool_parent: FAIL ...") and exits 0 on success, 1 on failure.
//
//	go_pool_parent [-timeout 30s] -- WORKER [ARGS...]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

const (
	numTasks = 50
	killTask = 25
	failTask = 33
)

var sizes = []int{0, 1, 7, 100, 4096, 65535, 65536, 65537, 102400}

// payload is what task i asks the worker to echo (and its expected result).
func payload(i int) []byte {
	b := make([]byte, sizes[i%len(sizes)])
	for j := range b {
		b[j] = byte(j*31 + i*7)
	}
	return b
}

func taskBytes(i int) []byte {
	switch i {
	case killTask:
		return []byte(fmt.Sprintf("kill %d", i))
	case failTask:
		return []byte(fmt.Sprintf("fail task %d fails on purpose", i))
	}
	return append([]byte("echo "), payload(i)...)
}

// children lists this process's children (every thread's /proc children file).
func children() ([]string, error) {
	files, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		return nil, err
	}
	var pids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) { // a thread that ended is gone
			return nil, err
		}
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids, nil
}

// check says why task i did not end as the convention says (nil if it did).
func check(i int, task *tubo.Task, result []byte, err error) error {
	switch {
	case i == killTask:
		prefix := fmt.Sprintf("task %d:", task.ID())
		if !errors.Is(err, tubo.ErrWorkerDied) || !strings.Contains(err.Error(), prefix) ||
			!strings.Contains(err.Error(), "died") {
			return fmt.Errorf("want ErrWorkerDied naming the task (%q), got %d bytes, %v", prefix, len(result), err)
		}
	case i == failTask:
		want := fmt.Sprintf("task %d fails on purpose", i)
		if !errors.Is(err, tubo.ErrTaskFailed) || !strings.Contains(err.Error(), want) {
			return fmt.Errorf("want ErrTaskFailed with %q, got %d bytes, %v", want, len(result), err)
		}
	case err != nil:
		return err
	case !bytes.Equal(result, payload(i)):
		return fmt.Errorf("wrong result of %d bytes (want %d)", len(result), len(payload(i)))
	}
	return nil
}

func run(argv []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pool, err := tubo.NewPool(tubo.PoolCommand(argv[0], argv[1:]...), tubo.PoolOptions{Workers: 2})
	if err != nil {
		return err
	}
	defer pool.Terminate()
	tasks := make([]*tubo.Task, numTasks)
	for i := range tasks {
		if tasks[i], err = pool.Submit(ctx, taskBytes(i)); err != nil {
			return fmt.Errorf("submit task %d: %w", i, err)
		}
	}
	for i, task := range tasks {
		result, err := task.Result(ctx)
		if err := check(i, task, result, err); err != nil {
			return fmt.Errorf("task %d (id %d): %w", i, task.ID(), err)
		}
	}
	if err := pool.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	left, err := children()
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("children left after close: %s", strings.Join(left, " "))
	}
	return nil
}

func main() {
	timeout := flag.Duration("timeout", 30*time.Second, "give up (and terminate the pool) after this long")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go_pool_parent [-timeout 30s] -- WORKER [ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(argv, *timeout); err != nil {
		fmt.Printf("go_pool_parent: FAIL %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("go_pool_parent: OK %d tasks: %d results, task %d worker_died, task %d task_failed; closed, no child left\n",
		numTasks, numTasks-2, killTask, failTask)
}
