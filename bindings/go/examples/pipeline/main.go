// Seed program 3: a pipeline of two processes and the parent.
//
// create_items sends 0..9 into pipe 1; multiply_items reads pipe 1 until end
// of stream and sends each item squared into pipe 2; the parent prints what
// arrives on pipe 2 until end of stream. In the Python original, forgetting
// to close the parent's copies of the write ends makes the parent wait
// forever; here Channel consumes the ends it hands to the workers, so the
// parent has no copies to forget. The workers are this binary re-executed
// into an entry (the self start method): a Go program never forks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	tubo "github.com/tubo/tubo/bindings/go"
)

func createItems(args []string) int {
	out, err := tubo.TakeWriteEnd("out")
	if err != nil {
		return fail("create_items", err)
	}
	for item := 0; item < 10; item++ {
		if err := out.Send([]byte(strconv.Itoa(item))); err != nil {
			return fail("create_items", err)
		}
	}
	if err := out.Close(); err != nil {
		return fail("create_items", err)
	}
	return 0
}

func multiplyItems(args []string) int {
	in, err := tubo.TakeReadEnd("in")
	if err != nil {
		return fail("multiply_items", err)
	}
	defer in.Close()
	out, err := tubo.TakeWriteEnd("out")
	if err != nil {
		return fail("multiply_items", err)
	}
	for {
		item, err := in.Recv()
		if errors.Is(err, io.EOF) {
			break // create_items is done
		}
		if err != nil {
			return fail("multiply_items", err)
		}
		value, err := strconv.ParseInt(string(item), 10, 64)
		if err != nil {
			return fail("multiply_items", err)
		}
		if err := out.Send([]byte(strconv.FormatInt(value*value, 10))); err != nil {
			return fail("multiply_items", err)
		}
	}
	if err := out.Close(); err != nil {
		return fail("multiply_items", err)
	}
	return 0
}

func fail(who string, err error) int {
	fmt.Fprintf(os.Stderr, "%s: %v\n", who, err)
	return 1
}

func main() {
	tubo.MustRegisterEntry("create_items", createItems)
	tubo.MustRegisterEntry("multiply_items", multiplyItems)
	tubo.RunEntryIfRequested()
	os.Exit(run())
}

func run() int {
	r1, w1, err := tubo.Pipe()
	if err != nil {
		return fail("pipeline", err)
	}
	r2, w2, err := tubo.Pipe()
	if err != nil {
		return fail("pipeline", err)
	}
	defer r2.Close()

	creator, err := tubo.Self("create_items").Channel("out", w1).Spawn()
	if err != nil {
		return fail("pipeline", err)
	}
	defer creator.Close()
	multiplier, err := tubo.Self("multiply_items").Channel("in", r1).Channel("out", w2).Spawn()
	if err != nil {
		return fail("pipeline", err)
	}
	defer multiplier.Close()

	for {
		item, err := r2.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail("pipeline", err)
		}
		fmt.Println(string(item))
	}
	fmt.Println("End of communication")
	s1, err1 := creator.Wait(context.Background())
	s2, err2 := multiplier.Wait(context.Background())
	if err1 != nil || err2 != nil || !s1.Success() || !s2.Success() {
		return 1
	}
	return 0
}
