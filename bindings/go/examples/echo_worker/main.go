// echo_worker in Go: an exec worker that takes channel `in` (read) and `out`
// (write) and sends back every message unchanged until end of stream, then
// exits 0. On a framing or channel error it prints the error on stderr and
// exits non-zero. Exactly the contract of examples/cpp/echo_worker.cc.
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	tubo "github.com/tubo/tubo/bindings/go"
)

func fail(err error) {
	fmt.Fprintf(os.Stderr, "echo_worker: %v\n", err)
	os.Exit(1)
}

func main() {
	in, err := tubo.TakeReadEnd("in")
	if err != nil {
		fail(err)
	}
	out, err := tubo.TakeWriteEnd("out")
	if err != nil {
		fail(err)
	}
	if err := in.SetMaxMessageSize(math.MaxUint64); err != nil {
		fail(err)
	}
	for {
		m, err := in.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(err)
		}
		if err := out.Send(m); err != nil {
			fail(err)
		}
	}
	in.Close()
	if err := out.Close(); err != nil {
		fail(err)
	}
}
