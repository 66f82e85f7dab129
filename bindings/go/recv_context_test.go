package tubo_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// A peer that stalls in the middle of a frame: RecvContext gives up when the
// context is done, and the next receive returns the whole message (the part
// received before was kept), then the next message.
func TestRecvContextGivesUpMidMessageAndLosesNothing(t *testing.T) {
	for _, c := range []struct {
		name      string
		size, cut int
	}{
		{"half a header", 1000, 2},
		{"half a small payload", 1000, 4 + 500},
		{"half a direct payload", 512 << 10, 4 + 300<<10},
		{"half a growing payload", 4 << 20, 4 + 2<<20},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, w := mustPipe(t)
			want := pattern(c.size)
			frame := binary.BigEndian.AppendUint32(nil, uint32(c.size))
			frame = append(frame, want...)
			frame = append(frame, 0, 0, 0, 5)
			frame = append(frame, "after"...)
			wrote := make(chan struct{})
			resume := make(chan struct{})
			go func() {
				writeRawNoT(w, frame[:c.cut])
				close(wrote)
				<-resume
				writeRawNoT(w, frame[c.cut:])
			}()
			defer close(resume)
			// Time out until the first part is written whole, and once more
			// after (so the end has taken all of it).
			for stalled := false; ; {
				select {
				case <-wrote:
					stalled = true
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
				m, err := r.RecvContext(ctx)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("RecvContext from a stalled peer = %d bytes, %v; want context.DeadlineExceeded", len(m), err)
				}
				if stalled {
					break
				}
			}
			resume <- struct{}{}
			got, err := r.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, not the %d sent", len(got), len(want))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if got, err := r.RecvContext(ctx); err != nil || string(got) != "after" {
				t.Fatalf("next RecvContext = %q, %v; want \"after\"", got, err)
			}
		})
	}
}

// RecvContext receives whole messages of every size when they arrive in time.
func TestRecvContextReceivesMessagesOfEverySize(t *testing.T) {
	r, w := mustPipe(t)
	sizes := []int{0, 1, 4096, 4097, 1 << 20, 1<<20 + 1, 8 << 20}
	go func() {
		for _, n := range sizes {
			w.Send(pattern(n))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range sizes {
		got, err := r.RecvContext(ctx)
		if err != nil {
			t.Fatalf("RecvContext of %d bytes: %v", n, err)
		}
		if !bytes.Equal(got, pattern(n)) {
			t.Fatalf("RecvContext of %d bytes: got %d bytes, not the message", n, len(got))
		}
	}
}

// The part a direct receive kept is not given to a later, different message
// received in between by RecvInto.
func TestRecvIntoAfterAnInterruptedRecvContextThenRecv(t *testing.T) {
	r, w := mustPipe(t)
	first := pattern(200 << 10)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(first)))
	frame = append(frame, first...)
	writeRaw(t, w, frame[:1000])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if _, err := r.RecvContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RecvContext = %v, want context.DeadlineExceeded", err)
	}
	cancel()
	go func() {
		writeRawNoT(w, frame[1000:])
		w.Send([]byte("second"))
	}()
	buf := make([]byte, len(first))
	n, err := r.RecvInto(buf)
	if err != nil || !bytes.Equal(buf[:n], first) {
		t.Fatalf("RecvInto = %d bytes, %v; want the first message", n, err)
	}
	if got := mustRecv(t, r); string(got) != "second" {
		t.Fatalf("Recv = %q, want \"second\"", got)
	}
}
