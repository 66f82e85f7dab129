package tubo_test

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// countFds counts this process's open descriptors, after letting the
// finalizers of earlier tests' garbage run, so that only the caller's own
// descriptors make a difference.
func countFds(t *testing.T) int {
	t.Helper()
	runtime.GC()
	runtime.GC()
	time.Sleep(5 * time.Millisecond)
	return rawCountFds(t)
}

func rawCountFds(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestNoDescriptorLeakAfterManyOpenCloseCycles(t *testing.T) {
	base := countFds(t)
	for i := 0; i < 1000; i++ {
		r, w, err := tubo.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w.Send([]byte("x"))
		w.Close()
		r.Recv()
		r.Close()
		a, b, err := tubo.DuplexPipe()
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		b.Close()
	}
	for i := 0; i < 50; i++ {
		r, w, _ := tubo.Pipe()
		p, err := tubo.Command("true").Channel("in", r).Spawn()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p.Wait(ctx)
		cancel()
		p.Close()
		w.Close()
	}
	if n := countFds(t); n != base {
		t.Fatalf("%d descriptors after 1000 pipe and 50 spawn cycles, %d before", n, base)
	}
}

// forget opens ends and starts a process and drops them without Close.
func forget(t *testing.T) {
	for i := 0; i < 200; i++ {
		if _, _, err := tubo.Pipe(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tubo.Command("true").Spawn(); err != nil {
		t.Fatal(err)
	}
	tubo.Command("true") // a builder never spawned
}

func TestFinalizersReleaseWhatTheProgramForgot(t *testing.T) {
	base := countFds(t)
	forget(t)
	if n := rawCountFds(t); n < base+400 {
		t.Fatalf("only %d descriptors after opening 400, %d before", n, base)
	}
	deadline := time.Now().Add(10 * time.Second)
	for countFds(t) > base && time.Now().Before(deadline) {
	}
	if n := countFds(t); n > base {
		t.Fatalf("%d descriptors after GC, %d before", n, base)
	}
}
