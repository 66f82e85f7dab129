// Seed program 2: `square` and `is_even` run as two processes over one list;
// the parent joins both and prints "Done". The workers use the self start
// method: this binary re-executed into a registered entry point.
//
//	p1 = Process(target=square, args=(numbers,))
//	p2 = Process(target=is_even, args=(numbers,))
//	p1.start(); p2.start(); p1.join(); p2.join(); print("Done")
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	tubo "github.com/tubo/tubo/bindings/go"
)

func numbers(args []string) []int {
	var ns []int
	for _, a := range args {
		if n, err := strconv.Atoi(a); err == nil {
			ns = append(ns, n)
		}
	}
	return ns
}

func square(args []string) int {
	for _, x := range numbers(args) {
		fmt.Printf("%d squared is %d\n", x, x*x)
	}
	return 0
}

func isEven(args []string) int {
	for _, x := range numbers(args) {
		if x%2 == 0 {
			fmt.Printf("%d is an even number\n", x)
		}
	}
	return 0
}

func main() {
	tubo.MustRegisterEntry("square", square)
	tubo.MustRegisterEntry("is_even", isEven)
	tubo.RunEntryIfRequested()

	numbers := []string{"43", "50", "5", "98", "34", "35"}
	p1, err := tubo.Self("square", numbers...).Spawn()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer p1.Close()
	p2, err := tubo.Self("is_even", numbers...).Spawn()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer p2.Close()
	s1, err1 := p1.Wait(context.Background())
	s2, err2 := p2.Wait(context.Background())
	fmt.Println("Done")
	if err1 != nil || err2 != nil || !s1.Success() || !s2.Success() {
		os.Exit(1)
	}
}
