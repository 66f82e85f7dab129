package tubo_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

func mustPipe(t *testing.T) (r, w *tubo.End) {
	t.Helper()
	r, w, err := tubo.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func mustDuplex(t *testing.T) (a, b *tubo.End) {
	t.Helper()
	a, b, err := tubo.DuplexPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func mustRecv(t *testing.T, e *tubo.End) []byte {
	t.Helper()
	m, err := e.Recv()
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	return m
}

func TestPipeCarriesMessagesInOrderIncludingEmptyOnes(t *testing.T) {
	r, w := mustPipe(t)
	if r.Kind() != tubo.ReadEnd || w.Kind() != tubo.WriteEnd {
		t.Fatalf("kinds %v %v", r.Kind(), w.Kind())
	}
	msgs := [][]byte{[]byte("one"), {}, nil, []byte(strings.Repeat("x", 100000))}
	go func() {
		for _, m := range msgs {
			if err := w.Send(m); err != nil {
				t.Error(err)
			}
		}
		w.Close()
	}()
	for i, want := range msgs {
		got := mustRecv(t, r)
		if string(got) != string(want) || got == nil {
			t.Fatalf("message %d: got %d bytes (nil: %v), want %d", i, len(got), got == nil, len(want))
		}
	}
}

func TestEOFAfterLastWriterClosesAndOnEveryLaterCall(t *testing.T) {
	r, w := mustPipe(t)
	w.Send([]byte("last"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if string(mustRecv(t, r)) != "last" {
		t.Fatal("lost the last message")
	}
	for i := 0; i < 3; i++ {
		if _, err := r.Recv(); !errors.Is(err, io.EOF) || err != io.EOF {
			t.Fatalf("Recv after the writer closed: %v, want io.EOF", err)
		}
	}
	if _, err := r.RecvInto(make([]byte, 4)); err != io.EOF {
		t.Fatalf("RecvInto at EOF: %v", err)
	}
}

func TestDuplexHalfCloseLetsRepliesFlowBack(t *testing.T) {
	a, b := mustDuplex(t)
	if a.Kind() != tubo.DuplexEnd {
		t.Fatal(a.Kind())
	}
	a.Send([]byte("question"))
	if err := a.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if string(mustRecv(t, b)) != "question" {
		t.Fatal("question lost")
	}
	if _, err := b.Recv(); err != io.EOF {
		t.Fatalf("peer after CloseWrite: %v, want io.EOF", err)
	}
	if err := b.Send([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	if string(mustRecv(t, a)) != "answer" {
		t.Fatal("answer lost")
	}
	if err := a.Send([]byte("more")); err == nil {
		t.Fatal("Send after CloseWrite succeeded")
	}
}

func TestRecvIntoReportsTheNeededSizeAndKeepsTheMessage(t *testing.T) {
	r, w := mustPipe(t)
	w.Send([]byte("hello world"))
	w.Send(nil)
	buf := make([]byte, 5)
	n, err := r.RecvInto(buf)
	var small *tubo.BufferTooSmallError
	if !errors.As(err, &small) || small.Needed != 11 || small.Have != 5 || n != 0 {
		t.Fatalf("RecvInto(5 bytes) = %d, %v; want BufferTooSmallError{Needed: 11}", n, err)
	}
	if !errors.Is(err, tubo.ErrBufferTooSmall) || !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("%v is not ErrBufferTooSmall / io.ErrShortBuffer", err)
	}
	buf = make([]byte, small.Needed)
	if n, err := r.RecvInto(buf); err != nil || string(buf[:n]) != "hello world" {
		t.Fatalf("RecvInto(11 bytes) = %d, %v", n, err)
	}
	// An empty message fits an empty (even nil) buffer.
	if n, err := r.RecvInto(nil); err != nil || n != 0 {
		t.Fatalf("RecvInto(nil) of an empty message = %d, %v", n, err)
	}
}

func TestPollWaitsForSomethingToReceive(t *testing.T) {
	r, w := mustPipe(t)
	start := time.Now()
	if ready, err := r.Poll(20 * time.Millisecond); err != nil || ready {
		t.Fatalf("Poll on an empty pipe = %v, %v", ready, err)
	}
	if time.Since(start) < 15*time.Millisecond {
		t.Fatal("Poll returned before its timeout")
	}
	if ready, _ := r.Poll(0); ready {
		t.Fatal("Poll(0) on an empty pipe is ready")
	}
	w.Send([]byte("x"))
	if ready, err := r.Poll(-1); err != nil || !ready {
		t.Fatalf("Poll with a message = %v, %v", ready, err)
	}
	mustRecv(t, r)
	w.Close()
	if ready, _ := r.Poll(time.Second); !ready {
		t.Fatal("EOF does not make Poll ready")
	}
}

func TestRecvContextGivesUpWhenTheContextIsDone(t *testing.T) {
	r, w := mustPipe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.RecvContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RecvContext = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
	if err := r.PollContext(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("PollContext = %v, want Canceled", err)
	}
	w.Send([]byte("late"))
	if m, err := r.RecvContext(context.Background()); err != nil || string(m) != "late" {
		t.Fatalf("RecvContext after cancellations = %q, %v", m, err)
	}
}

func TestSendToAGoneReaderIsErrPeerClosedNotSIGPIPE(t *testing.T) {
	r, w := mustPipe(t)
	r.Close()
	err := w.Send([]byte("nobody listens"))
	if !errors.Is(err, tubo.ErrPeerClosed) {
		t.Fatalf("Send = %v, want ErrPeerClosed", err)
	}
}

func TestMessageOverTheMaximumIsErrTooLargeAndSticky(t *testing.T) {
	r, w := mustPipe(t)
	if err := r.SetMaxMessageSize(10); err != nil || r.MaxMessageSize() != 10 {
		t.Fatal(err, r.MaxMessageSize())
	}
	w.Send(make([]byte, 11))
	w.Send(make([]byte, 1))
	for i := 0; i < 2; i++ {
		if _, err := r.Recv(); !errors.Is(err, tubo.ErrTooLarge) {
			t.Fatalf("Recv %d = %v, want ErrTooLarge", i, err)
		}
	}
	if err := w.SetMaxMessageSize(1); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("SetMaxMessageSize on a write end = %v", err)
	}
}

// writeRaw writes bytes to an end's descriptor directly, bypassing the framing.
func writeRaw(t *testing.T, e *tubo.End, b []byte) {
	t.Helper()
	if _, err := syscall.Write(e.Fd(), b); err != nil {
		t.Fatal(err)
	}
}

func TestWriterDyingMidMessageIsErrTruncatedNotEOF(t *testing.T) {
	r, w := mustPipe(t)
	writeRaw(t, w, []byte{0, 0, 0, 9, 'a', 'b'})
	w.Close()
	_, err := r.Recv()
	var te *tubo.Error
	if !errors.Is(err, tubo.ErrTruncated) || !errors.As(err, &te) || te.Code != tubo.CodeTruncated {
		t.Fatalf("Recv = %v, want ErrTruncated", err)
	}
	if !strings.Contains(te.Message, "truncated") {
		t.Errorf("message %q does not say truncated", te.Message)
	}
	if _, err := r.Recv(); !errors.Is(err, tubo.ErrTruncated) {
		t.Fatalf("second Recv = %v, want ErrTruncated again", err)
	}
}

func TestNegativeLengthIsErrBadLength(t *testing.T) {
	r, w := mustPipe(t)
	writeRaw(t, w, []byte{0xff, 0xff, 0xff, 0xfe})
	if _, err := r.Recv(); !errors.Is(err, tubo.ErrBadLength) {
		t.Fatalf("Recv = %v, want ErrBadLength", err)
	}
}

func TestSendBufferHoldsMessagesUntilFlush(t *testing.T) {
	r, w := mustPipe(t)
	if err := w.SetSendBufferSize(4096); err != nil || w.SendBufferSize() != 4096 {
		t.Fatal(err, w.SendBufferSize())
	}
	w.Send([]byte("buffered"))
	if ready, _ := r.Poll(10 * time.Millisecond); ready {
		t.Fatal("a buffered message reached the reader before Flush")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if string(mustRecv(t, r)) != "buffered" {
		t.Fatal("lost the flushed message")
	}
	w.Send([]byte("flushed by Close"))
	w.Close()
	if string(mustRecv(t, r)) != "flushed by Close" {
		t.Fatal("Close did not flush")
	}
}

func TestClosedEndIsErrClosedAndCloseIsIdempotent(t *testing.T) {
	r, w := mustPipe(t)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	err := w.Send([]byte("x"))
	if !errors.Is(err, tubo.ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Send on a closed end = %v", err)
	}
	if w.Fd() != -1 || w.Kind() != 0 {
		t.Fatal("a closed end still has a descriptor or kind")
	}
	r.Close()
	if _, err := r.Recv(); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("Recv on a closed end = %v", err)
	}
}

func TestWrongKindOfEndIsErrInvalidArgument(t *testing.T) {
	r, w := mustPipe(t)
	if err := r.Send([]byte("x")); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("Send on a read end = %v", err)
	}
	if _, err := w.Recv(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("Recv on a write end = %v", err)
	}
	if err := r.CloseWrite(); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("CloseWrite on a read end = %v", err)
	}
}

func TestTakeChannelOutsideAWorkerIsErrChannel(t *testing.T) {
	os.Unsetenv("TUBO_CHANNELS")
	if _, err := tubo.TakeReadEnd("in"); !errors.Is(err, tubo.ErrChannel) {
		t.Fatalf("TakeReadEnd without TUBO_CHANNELS = %v", err)
	}
	if _, err := tubo.TakeWriteEnd("bad\x00name"); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("TakeWriteEnd with a NUL = %v", err)
	}
}

func TestErrorsCarryCodeAndMessageAndMatchTheirSentinelOnly(t *testing.T) {
	err := error(&tubo.Error{Code: tubo.CodeTimeout, Message: "wait for pid 1: still running"})
	if !errors.Is(err, tubo.ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a timeout error does not match its sentinels")
	}
	if errors.Is(err, tubo.ErrClosed) || errors.Is(err, io.EOF) {
		t.Fatal("a timeout error matches another sentinel")
	}
	if err.Error() != "wait for pid 1: still running" {
		t.Fatalf("Error() = %q", err.Error())
	}
	if tubo.ErrTruncated.Error() != "tubo: truncated" || tubo.CodeTruncated.String() != "truncated" {
		t.Fatalf("sentinel text %q, code name %q", tubo.ErrTruncated.Error(), tubo.CodeTruncated.String())
	}
	codes := map[tubo.Code]int{
		tubo.CodeOther: -1, tubo.CodeInvalidArgument: -2, tubo.CodeSystem: -3, tubo.CodeClosed: -4,
		tubo.CodeTruncated: -5, tubo.CodeBadLength: -6, tubo.CodeTooLarge: -7, tubo.CodePeerClosed: -8,
		tubo.CodeTimeout: -9, tubo.CodeSpawn: -10, tubo.CodeChannel: -11, tubo.CodeWorkerDied: -12,
		tubo.CodeTaskFailed: -13, tubo.CodeCancelled: -14, tubo.CodeBufferTooSmall: -1000,
		tubo.CodeNoMemory: -1001,
	}
	for code, want := range codes {
		if int(code) != want || code.String() == "unknown" {
			t.Errorf("code %v = %d, want %d", code, int(code), want)
		}
	}
}

func TestVersionIsMajorOne(t *testing.T) {
	if !strings.HasPrefix(tubo.Version(), "1.") || tubo.CheckVersion() != nil {
		t.Fatalf("Version() = %q, CheckVersion() = %v", tubo.Version(), tubo.CheckVersion())
	}
}
