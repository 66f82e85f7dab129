package tubo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// What waiting on the netpoller gives: Close unblocks a receive, deadlines,
// a duplex end receiving and sending from two goroutines, and many waits
// without many OS threads.

// result of a receive run on another goroutine.
type recvResult struct {
	m   []byte
	err error
}

func recvAsync(e *tubo.End) chan recvResult {
	out := make(chan recvResult, 1)
	go func() {
		m, err := e.Recv()
		out <- recvResult{m, err}
	}()
	return out
}

func within(t *testing.T, c chan recvResult, d time.Duration) recvResult {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(d):
		t.Fatalf("no result within %v", d)
	}
	return recvResult{}
}

// parked waits until a goroutine has been parked for a while (there is no
// portable way to see that it is inside Recv).
func parked() { time.Sleep(50 * time.Millisecond) }

func TestCloseUnblocksARecvOnAnotherGoroutine(t *testing.T) {
	r, w := mustPipe(t)
	oldFd := r.Fd()
	got := recvAsync(r)
	parked()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	res := within(t, got, 5*time.Second)
	if !errors.Is(res.err, tubo.ErrClosed) || !errors.Is(res.err, os.ErrClosed) {
		t.Fatalf("Recv after Close on another goroutine = %q, %v; want ErrClosed", res.m, res.err)
	}
	// The number is free again: a new pipe may get it, and nothing of the old
	// receive touches it.
	r2, w2 := mustPipe(t)
	if err := w2.Send([]byte("for the new end")); err != nil {
		t.Fatal(err)
	}
	if m := mustRecv(t, r2); string(m) != "for the new end" {
		t.Fatalf("the new end (fd %d, the old one was %d) got %q", r2.Fd(), oldFd, m)
	}
	if err := w.Send([]byte("x")); !errors.Is(err, tubo.ErrPeerClosed) {
		t.Fatalf("Send with the reader closed = %v, want ErrPeerClosed", err)
	}
}

func TestCloseUnblocksPollAndSendContext(t *testing.T) {
	r, w := mustPipe(t)
	pollDone := make(chan error, 1)
	go func() { pollDone <- r.PollContext(context.Background()) }()
	// Fill the pipe, then SendContext waits for room.
	fill(t, w)
	sendDone := make(chan error, 1)
	go func() { sendDone <- w.SendContext(context.Background(), []byte("late")) }()
	parked()
	w.Close()
	if err := <-sendDone; !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("SendContext after Close = %v, want ErrClosed", err)
	}
	// The reader was woken by the data long ago: PollContext returned nil.
	if err := <-pollDone; err != nil {
		t.Fatalf("PollContext = %v", err)
	}
	r2, _ := mustPipe(t)
	go func() { pollDone <- r2.PollContext(context.Background()) }()
	parked()
	r2.Close()
	if err := <-pollDone; !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("PollContext after Close = %v, want ErrClosed", err)
	}
}

func TestReadDeadline(t *testing.T) {
	r, w := mustPipe(t)
	if err := r.SetReadDeadline(time.Now().Add(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := r.Recv()
	if !errors.Is(err, tubo.ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recv past the deadline = %v; want ErrTimeout and os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Fatalf("gave up after %v, before the deadline", d)
	}
	// A deadline that has passed fails at once; the End is still usable.
	buf := make([]byte, 8)
	if _, err := r.RecvInto(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("RecvInto past the deadline = %v", err)
	}
	// Half a message, then the deadline: the part stays with the End.
	writeRaw(t, w, []byte{0, 0, 0, 5, 'h', 'e'})
	if _, err := r.Recv(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recv of half a message past the deadline = %v", err)
	}
	// Extending the deadline reaches a receive already waiting.
	// (300 ms: under load the two calls may be tens of milliseconds apart;
	// the bytes come after the first deadline, so only the lift saves it.)
	r.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	got := recvAsync(r)
	r.SetReadDeadline(time.Time{})
	parked()
	time.Sleep(400 * time.Millisecond)
	writeRaw(t, w, []byte("llo"))
	res := within(t, got, 5*time.Second)
	if res.err != nil || string(res.m) != "hello" {
		t.Fatalf("Recv after the deadline was lifted = %q, %v; want \"hello\"", res.m, res.err)
	}
}

func TestWriteDeadline(t *testing.T) {
	r, w := mustPipe(t)
	fill(t, w)
	w.SetWriteDeadline(time.Now().Add(30 * time.Millisecond))
	if err := w.Send([]byte("no room")); !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, tubo.ErrTimeout) {
		t.Fatalf("Send on a full pipe past the deadline = %v", err)
	}
	if err := w.SendContext(context.Background(), []byte("no room")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("SendContext on a full pipe past the deadline = %v", err)
	}
	// Nothing of the refused messages was written: the reader sees only the
	// 4 KiB ones.
	w.SetWriteDeadline(time.Time{})
	w.Close()
	for {
		m, err := r.Recv()
		if err != nil {
			break
		}
		if len(m) != fillSize {
			t.Fatalf("a refused message arrived (%d bytes)", len(m))
		}
	}
}

func TestDuplexEndReceivesAndSendsFromTwoGoroutines(t *testing.T) {
	a, b := mustDuplex(t)
	got := recvAsync(a)
	parked()
	// a is parked in Recv; another goroutine sends on a meanwhile.
	done := make(chan error, 1)
	go func() { done <- a.Send([]byte("ping")) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send on a duplex end waited for a parked Recv on it")
	}
	if m := mustRecv(t, b); string(m) != "ping" {
		t.Fatalf("peer got %q", m)
	}
	if err := b.Send([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if res := within(t, got, 5*time.Second); res.err != nil || string(res.m) != "pong" {
		t.Fatalf("Recv = %q, %v", res.m, res.err)
	}
}

// fillSize is the payload of the messages fill sends: with its 4-byte
// header a frame is one page, so a pipe (of whole pages) fills exactly.
const fillSize = 4092

// fill sends messages on w until its pipe has no room, none of them held in
// part by the End (so Close has nothing to flush).
func fill(t *testing.T, w *tubo.End) {
	t.Helper()
	for {
		ok, err := w.TrySend(make([]byte, fillSize))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	if n := w.Unsent(); n != 0 {
		t.Fatalf("the End holds %d bytes of a message", n)
	}
}

// threads is the number of OS threads of this process.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}

// A hundred workers, each with a result pipe: a goroutine per worker parked
// in Recv, and one WaitSet over their ends and processes, hold no thread
// each.
func TestAHundredWorkersWithoutAHundredThreads(t *testing.T) {
	const n = 100
	base := threads(t)
	type worker struct {
		p       *tubo.Process
		r, w    *tubo.End // r: the worker's results; w: its input, which holds it
		results chan recvResult
	}
	workers := make([]worker, n)
	set, err := tubo.NewWaitSet()
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	for i := range workers {
		in, inW := mustPipe(t)
		outR, out := mustPipe(t)
		p := spawn(t, tubo.Self("echo", fmt.Sprint(i)).Channel("in", in).Channel("out", out))
		workers[i] = worker{p: p, r: outR, w: inW}
		if err := set.AddProcess(p, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Half of the results are read by a goroutine each, the other half
	// watched by the set.
	for i := 0; i < n/2; i++ {
		workers[i].results = recvAsync(workers[i].r)
	}
	for i := n / 2; i < n; i++ {
		if err := set.AddEnd(workers[i].r, uint64(n+i)); err != nil {
			t.Fatal(err)
		}
	}
	setDone := make(chan []uint64, 1)
	go func() {
		keys, err := set.Wait(context.Background())
		if err != nil {
			t.Error(err)
		}
		setDone <- keys
	}()
	parked()
	// A thread per waiting goroutine would be 51 more; the runtime keeps a
	// few idle threads from the spawns and the first receives.
	now := threads(t)
	if now-base >= n/2 {
		t.Fatalf("%d OS threads with %d goroutines waiting (%d before)", now, n/2+1, base)
	}
	t.Logf("%d OS threads with %d goroutines waiting on %d ends and %d processes (%d before)", now, n/2+1, n, n, base)
	select {
	case keys := <-setDone:
		t.Fatalf("the set reported %v before anything happened", keys)
	default:
	}
	// Worker 70 answers: the set reports its end.
	if err := workers[70].w.Send([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	keys := <-setDone
	if len(keys) != 1 || keys[0] != n+70 {
		t.Fatalf("set reported %v, want [%d]", keys, n+70)
	}
	if m := mustRecv(t, workers[70].r); string(m) != "70hi" {
		t.Fatalf("worker 70 answered %q", m)
	}
	// Every worker gets its input and ends; every goroutine gets its answer.
	for i := range workers {
		if i != 70 {
			workers[i].w.Send([]byte("hi"))
		}
		workers[i].w.Close()
	}
	for i := 0; i < n/2; i++ {
		res := within(t, workers[i].results, 20*time.Second)
		if want := fmt.Sprint(i) + "hi"; res.err != nil || string(res.m) != want {
			t.Fatalf("worker %d: %q, %v; want %q", i, res.m, res.err, want)
		}
	}
	// Then the set sees every process exit (and the unread ends).
	exited := map[uint64]bool{}
	for len(exited) < n {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		keys, err := set.Wait(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Wait with %d of %d exited: %v", len(exited), n, err)
		}
		for _, k := range keys {
			switch {
			case k < n:
				exited[k] = true
				if st := wait(t, workers[k].p); !st.Success() {
					t.Fatalf("worker %d: %v", k, st)
				}
				set.Remove(k)
			default: // its answer, then the end of its stream
				m, err := workers[k-n].r.Recv()
				if errors.Is(err, io.EOF) {
					set.Remove(k)
				} else if err != nil || string(m) != fmt.Sprint(k-n)+"hi" {
					t.Fatalf("worker %d answered %q, %v", k-n, m, err)
				}
			}
		}
	}
}

func TestWaitSetMembersAndErrors(t *testing.T) {
	set, err := tubo.NewWaitSet()
	if err != nil {
		t.Fatal(err)
	}
	r, w := mustPipe(t)
	if err := set.AddEnd(r, 1); err != nil {
		t.Fatal(err)
	}
	if err := set.AddWritable(w, 1); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("a second member under key 1 = %v, want ErrInvalidArgument", err)
	}
	if err := set.AddWritable(r, 2); err == nil {
		t.Fatal("a read end watched for writing: no error")
	}
	if err := set.AddWritable(w, 2); err != nil {
		t.Fatal(err)
	}
	keys, err := set.Wait(context.Background())
	if err != nil || len(keys) != 1 || keys[0] != 2 {
		t.Fatalf("Wait = %v, %v; want the writable end, [2]", keys, err)
	}
	set.Remove(2)
	// Closing a member removes it; a parked Wait sees the rest.
	done := make(chan error, 1)
	go func() {
		_, err := set.Wait(context.Background())
		done <- err
	}()
	parked()
	r.Close()
	if set.Len() != 0 {
		t.Fatalf("%d members after the only one was closed", set.Len())
	}
	// Closing the set unblocks the Wait, which had nothing left to see.
	set.Close()
	select {
	case err := <-done:
		if !errors.Is(err, tubo.ErrClosed) {
			t.Fatalf("Wait after the set's Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Wait")
	}
	if err := set.AddEnd(w, 3); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("AddEnd on a closed set = %v", err)
	}
	if err := w.Send([]byte("still usable")); err == nil || !errors.Is(err, tubo.ErrPeerClosed) {
		t.Fatalf("the member after the set's Close: Send = %v, want ErrPeerClosed (its reader is closed)", err)
	}
}

func TestProcessCloseUnblocksAWait(t *testing.T) {
	p := spawn(t, tubo.Command("sleep", "30"))
	p.SetStopSequence(0, syscall.SIGTERM, time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := p.Wait(context.Background())
		done <- err
	}()
	parked()
	p.Close()
	select {
	case err := <-done:
		if !errors.Is(err, tubo.ErrClosed) {
			t.Fatalf("Wait after Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Wait")
	}
}
