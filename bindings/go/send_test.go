package tubo_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

const (
	sinkMessage  = 256 << 10
	sinkMessages = 32 // 8 MiB per worker
)

func init() { tubo.MustRegisterEntry("sink", entrySink) }

func seededPattern(size, seed int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte((i + seed) % 251)
	}
	return b
}

// entrySink receives sinkMessages messages with the pattern of worker
// args[0] from channel "in", then expects the end of the stream.
func entrySink(args []string) int {
	index, _ := strconv.Atoi(args[0])
	in, err := tubo.TakeReadEnd("in")
	if err != nil {
		return 2
	}
	for i := 0; i < sinkMessages; i++ {
		m, err := in.Recv()
		if err != nil || !bytes.Equal(m, seededPattern(sinkMessage, index*1000+i)) {
			return 3
		}
	}
	if _, err := in.Recv(); err == nil {
		return 4
	}
	return 0
}

func TestTrySendFeedsThreeWorkersFromOneGoroutine(t *testing.T) {
	const workers = 3
	var writers []*tubo.End
	var procs []*tubo.Process
	for i := 0; i < workers; i++ {
		r, w := mustPipe(t)
		procs = append(procs, spawn(t, tubo.Self("sink", strconv.Itoa(i)).Channel("in", r)))
		writers = append(writers, w)
	}
	next := make(map[*tubo.End]int)
	index := make(map[*tubo.End]int)
	for i, w := range writers {
		index[w] = i
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	active := append([]*tubo.End(nil), writers...)
	for len(active) > 0 {
		_, ready, err := tubo.WaitEnds(ctx, nil, active)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ready {
			if next[w] == sinkMessages {
				if err := w.FlushTimeout(0); errors.Is(err, tubo.ErrTimeout) {
					continue
				} else if err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				for i, a := range active {
					if a == w {
						active = append(active[:i], active[i+1:]...)
						break
					}
				}
				continue
			}
			ok, err := w.TrySend(seededPattern(sinkMessage, index[w]*1000+next[w]))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				next[w]++
			}
		}
	}
	for i, p := range procs {
		if st := wait(t, p); st.ExitCode() != 0 {
			t.Errorf("worker %d: %v", i, st)
		}
	}
}

func TestSendTimeoutCommitsOrSendsNothing(t *testing.T) {
	r, w := mustPipe(t)
	big := seededPattern(3<<20, 7)
	if err := w.SendTimeout(big, 100*time.Millisecond); err != nil {
		t.Fatalf("SendTimeout of a message that partly fits: %v", err)
	}
	rest := w.Unsent()
	if rest <= 0 || rest >= len(big) {
		t.Fatalf("Unsent = %d, want a committed rest", rest)
	}
	if ok, err := w.TrySend([]byte("next")); ok || err != nil {
		t.Fatalf("TrySend behind a stuck rest = %v, %v; want false, nil", ok, err)
	}
	start := time.Now()
	err := w.SendTimeout([]byte("next"), 50*time.Millisecond)
	if !errors.Is(err, tubo.ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("SendTimeout = %v, want ErrTimeout", err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Errorf("SendTimeout returned early")
	}
	if w.Unsent() != rest {
		t.Errorf("Unsent = %d, want %d", w.Unsent(), rest)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.SendContext(ctx, []byte("next")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendContext = %v, want the context's error", err)
	}
	got := make(chan [][]byte)
	go func() {
		var ms [][]byte
		for {
			m, err := r.Recv()
			if err != nil {
				got <- ms
				return
			}
			ms = append(ms, m)
		}
	}()
	if err := w.SendContext(context.Background(), []byte("next")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ms := <-got
	if len(ms) != 2 || !bytes.Equal(ms[0], big) || string(ms[1]) != "next" {
		t.Fatalf("received %d messages; want the whole 3 MiB message, then next", len(ms))
	}
}

func TestPollWriteAndPeerClosed(t *testing.T) {
	r, w := mustPipe(t)
	if ok, err := w.PollWrite(0); !ok || err != nil {
		t.Fatalf("PollWrite on an empty pipe = %v, %v", ok, err)
	}
	if _, err := r.PollWrite(0); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Errorf("PollWrite on a read end = %v, want ErrInvalidArgument", err)
	}
	r.Close()
	if ok, err := w.TrySend([]byte("x")); ok || !errors.Is(err, tubo.ErrPeerClosed) {
		t.Fatalf("TrySend with no reader = %v, %v; want ErrPeerClosed", ok, err)
	}
}

// openDevNull counts this process's descriptors open on /dev/null.
func openDevNull(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "/dev/null") {
			n++
		}
	}
	return n
}

// A forgotten buffered End whose reader does not read must not stop the
// finalizers of everything else.
func TestFinalizerOfABufferedEndDoesNotBlockOthers(t *testing.T) {
	r, w, err := tubo.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // at the end: the flush fails, the goroutine returns
	if err := w.SetSendBufferSize(1 << 20); err != nil {
		t.Fatal(err)
	}
	if err := w.Send(seededPattern(900<<10, 1)); err != nil { // held in the buffer
		t.Fatal(err)
	}
	w = nil // forgotten: its flush would block, nobody reads r
	runtime.GC()
	time.Sleep(50 * time.Millisecond)

	before := openDevNull(t)
	func() {
		for i := 0; i < 100; i++ {
			if _, err := os.Open("/dev/null"); err != nil {
				t.Fatal(err)
			}
		}
	}()
	if got := openDevNull(t); got < before+100 {
		t.Fatalf("%d descriptors on /dev/null, want at least %d", got, before+100)
	}
	deadline := time.Now().Add(10 * time.Second)
	for openDevNull(t) > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d dropped os.Files never closed: finalizers are stuck", openDevNull(t)-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
