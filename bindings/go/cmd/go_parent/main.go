// go_parent: the Go parent of the cross-language matrix. It spawns an echo
// worker (the echo_worker contract: channel `in` read, `out` write, echo every
// message until EOF, exit 0), sends messages of the edge sizes, checks every
// echo byte for byte, closes its write end, expects EOF and a clean exit,
// prints one summary line and exits 0; on any failure it prints why on stderr
// and exits 1.
//
//	go_parent [-timeout 60s] -- WORKER [ARGS...]
//
// WORKER is run with the exec start method (no shell; a name without a slash
// is looked up in PATH), e.g. `go_parent -- python3 worker.py`.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// The edge sizes: empty, one byte, around 16 KiB and 64 KiB (buffer and pipe
// sizes), and 1 MiB.
var sizes = []int{0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1 << 20}

func payload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(j*31 + i*7 + size)
	}
	return b
}

func main() {
	timeout := flag.Duration("timeout", 60*time.Second, "give up (and kill the worker) after this long")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go_parent [-timeout 60s] -- WORKER [ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(argv, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "go_parent: %s: FAIL: %v\n", strings.Join(argv, " "), err)
		os.Exit(1)
	}
	fmt.Printf("go_parent: %s: %d messages of %d..%d bytes echoed, EOF, exit 0: ok\n",
		strings.Join(argv, " "), len(sizes), sizes[0], sizes[len(sizes)-1])
}

func run(argv []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	inR, inW, err := tubo.Pipe()
	if err != nil {
		return err
	}
	defer inW.Close()
	outR, outW, err := tubo.Pipe()
	if err != nil {
		return err
	}
	defer outR.Close()
	if err := outR.SetMaxMessageSize(math.MaxUint64); err != nil {
		return err
	}
	p, err := tubo.Command(argv[0], argv[1:]...).Channel("in", inR).Channel("out", outW).Spawn()
	if err != nil {
		return err
	}
	defer p.Close()
	// A hung exchange must not hang the matrix: kill the worker on timeout,
	// which ends its side of both pipes.
	go func() {
		<-ctx.Done()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.Kill()
		}
	}()

	// Send from a goroutine: the worker echoes while we send, and a 1 MiB
	// message does not fit a pipe, so sending and receiving must overlap.
	sent := make(chan error, 1)
	go func() {
		for i, size := range sizes {
			if err := inW.Send(payload(i, size)); err != nil {
				sent <- fmt.Errorf("send %d bytes: %w", size, err)
				return
			}
		}
		sent <- inW.Close()
	}()

	for i, size := range sizes {
		m, err := outR.Recv()
		if err != nil {
			return fmt.Errorf("receive the echo of %d bytes: %w", size, err)
		}
		if !bytes.Equal(m, payload(i, size)) {
			return fmt.Errorf("the echo of %d bytes differs (%d bytes back)", size, len(m))
		}
	}
	if err := <-sent; err != nil {
		return err
	}
	if m, err := outR.Recv(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("expected EOF after the last echo, got %d bytes and error %v", len(m), err)
	}
	status, err := p.Wait(ctx)
	if err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	if !status.Success() {
		return fmt.Errorf("the worker ended with %v", status)
	}
	return nil
}
