package tubo_test

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"syscall"
	"testing"

	tubo "github.com/tubo/tubo/bindings/go"
)

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// Peers that announce 1 GiB each, send a little and close: Recv reports
// ErrTruncated, and the Go heap grew with what arrived, not with what the
// headers announced (before, it allocated the announced size up front).
func TestRecvMemoryFollowsArrivalNotTheAnnouncedLength(t *testing.T) {
	const peers = 4
	readers := make([]*tubo.End, peers)
	for i := range readers {
		r, w := mustPipe(t)
		readers[i] = r
		header := []byte{0x40, 0, 0, 0} // 1 GiB, the default maximum
		writeRaw(t, w, append(header, pattern(1000)...))
		w.Close()
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make([]error, peers)
	for i, r := range readers {
		wg.Add(1)
		go func(i int, r *tubo.End) {
			defer wg.Done()
			_, errs[i] = r.Recv()
		}(i, r)
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	for i, err := range errs {
		if !errors.Is(err, tubo.ErrTruncated) {
			t.Errorf("peer %d: Recv = %v, want ErrTruncated", i, err)
		}
	}
	const limit = 64 << 20
	if grew := after.TotalAlloc - before.TotalAlloc; grew > limit {
		t.Errorf("receiving from %d peers that announced 1 GiB each allocated %d MiB of Go heap, want < %d MiB",
			peers, grew>>20, limit>>20)
	}
	if after.HeapSys > before.HeapSys+limit {
		t.Errorf("Go heap grew from %d to %d MiB", before.HeapSys>>20, after.HeapSys>>20)
	}
}

// Messages on both sides of the direct-receive limit, and a real 8 MiB one,
// arrive intact.
func TestRecvLargeMessagesArriveIntact(t *testing.T) {
	for _, size := range []int{4096, 4097, 1 << 20, 1<<20 + 1, 8 << 20} {
		r, w := mustPipe(t)
		want := pattern(size)
		done := make(chan error, 1)
		go func() { done <- w.Send(want) }()
		got, err := r.Recv()
		if err != nil {
			t.Fatalf("Recv of %d bytes: %v", size, err)
		}
		if err := <-done; err != nil {
			t.Fatalf("Send of %d bytes: %v", size, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Recv of %d bytes: got %d bytes, not the message sent", size, len(got))
		}
	}
}

// A large message cut short by its writer is ErrTruncated also on the path
// that receives into the library's buffer.
func TestRecvLargeTruncatedIsErrTruncated(t *testing.T) {
	r, w := mustPipe(t)
	go func() {
		writeRawNoT(w, append([]byte{0, 0x80, 0, 0}, pattern(3<<20)...)) // announces 8 MiB
		w.Close()
	}()
	if _, err := r.Recv(); !errors.Is(err, tubo.ErrTruncated) {
		t.Fatalf("Recv = %v, want ErrTruncated", err)
	}
}

// writeRawNoT writes b to the end's descriptor behind its back (for framing
// tests), from a goroutine other than the test's.
func writeRawNoT(e *tubo.End, b []byte) {
	for len(b) > 0 {
		n, err := syscall.Write(e.Fd(), b)
		if err != nil {
			return
		}
		b = b[n:]
	}
}
