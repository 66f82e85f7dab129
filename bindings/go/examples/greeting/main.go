// Seed program 1: a process runs a function with an argument; the parent joins it.
//
//	def greet(name): print('hello', name)
//	p = Process(target=greet, args=('world',)); p.start(); p.join()
//
// A Go program must not fork, so the worker uses the self start method: this
// binary re-executed into the registered entry "greet".
package main

import (
	"context"
	"fmt"
	"os"

	tubo "github.com/tubo/tubo/bindings/go"
)

func greet(args []string) int {
	fmt.Println("hello", args[0])
	return 0
}

func main() {
	tubo.MustRegisterEntry("greet", greet)
	tubo.RunEntryIfRequested()

	p, err := tubo.Self("greet", "world").Spawn()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer p.Close()
	status, err := p.Wait(context.Background())
	if err != nil || !status.Success() {
		os.Exit(1)
	}
}
