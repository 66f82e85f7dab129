// abi_bench (Go): the round trip of tubo_bench's "abi" section (rt.<S>)
// through the Go binding: End.Send of an S-byte message to bench/echo_peer
// (spawned with tubo.Command, channels "in"/"out"), then End.Recv of its
// echo. Same peer, sizes, counts and payload layout as tubo_bench.cc's
// RoundTrip and bench/abi_bench.c.
//
// Output: "lib.rt_go.<S>.{p50,p99,mean,n}" lines (microseconds).
// Usage: go_abi_bench [--scale F] [--peer PATH]
//
// Built by bench/BUILD.bazel's go_abi_bench genrule (bench/go_bench_build.sh:
// a scratch copy of the bindings/go module with this file as cmd/abi_bench).
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "go_abi_bench: %s: %v\n", what, err)
	os.Exit(2)
}

func sizeName(s int) string {
	switch {
	case s >= 1<<20 && s%(1<<20) == 0:
		return strconv.Itoa(s>>20) + "MiB"
	case s >= 1024 && s%1024 == 0:
		return strconv.Itoa(s>>10) + "KiB"
	}
	return strconv.Itoa(s) + "B"
}

func stamp(p []byte, seq uint64) {
	if len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, seq)
	}
	if len(p) > 8 {
		p[len(p)-1] = byte(seq)
	}
}

func verify(p []byte, size int, seq uint64) bool {
	if len(p) != size {
		return false
	}
	if size >= 8 && binary.LittleEndian.Uint64(p) != seq {
		return false
	}
	return size <= 8 || p[size-1] == byte(seq)
}

func report(name string, v []int64) {
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	n := len(v)
	var sum float64
	for _, x := range v {
		sum += float64(x)
	}
	i99 := int(0.99*float64(n-1) + 0.5)
	fmt.Printf("lib.%s.p50 %.3f us\n", name, float64(v[n/2])/1e3)
	fmt.Printf("lib.%s.p99 %.3f us\n", name, float64(v[i99])/1e3)
	fmt.Printf("lib.%s.mean %.3f us\n", name, sum/float64(n)/1e3)
	fmt.Printf("lib.%s.n %d runs\n", name, n)
}

func roundTrip(peer string, size, iters, warm int) {
	p2cR, p2cW, err := tubo.Pipe()
	if err != nil {
		die("pipe", err)
	}
	c2pR, c2pW, err := tubo.Pipe()
	if err != nil {
		die("pipe", err)
	}
	child, err := tubo.Command(peer).Channel("in", p2cR).Channel("out", c2pW).Spawn()
	if err != nil {
		die("spawn", err)
	}
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = 0xcd
	}
	lat := make([]int64, 0, iters)
	for i := 0; i < warm+iters; i++ {
		stamp(msg, uint64(i))
		t0 := time.Now()
		if err := p2cW.Send(msg); err != nil {
			die("send", err)
		}
		echo, err := c2pR.Recv()
		d := time.Since(t0)
		if err != nil {
			die("recv", err)
		}
		if !verify(echo, size, uint64(i)) {
			die("rt", fmt.Errorf("bad echo"))
		}
		if i >= warm {
			lat = append(lat, d.Nanoseconds())
		}
	}
	p2cW.Close()
	st, err := child.Wait(context.Background())
	if err != nil || !st.Success() {
		die("echo_peer", fmt.Errorf("%v %v", st, err))
	}
	c2pR.Close()
	report("rt_go."+sizeName(size), lat)
}

func main() {
	scale := 1.0
	exe, _ := os.Executable()
	peer := filepath.Join(filepath.Dir(exe), "echo_peer")
	for i := 1; i < len(os.Args); i++ {
		switch {
		case os.Args[i] == "--scale" && i+1 < len(os.Args):
			i++
			scale, _ = strconv.ParseFloat(os.Args[i], 64)
		case os.Args[i] == "--peer" && i+1 < len(os.Args):
			i++
			peer = os.Args[i]
		}
	}
	// Sizes and counts of tubo_bench.cc's "abi" section.
	sizes := []int{8, 1024, 64 << 10, 1 << 20}
	iters := []int{20000, 20000, 4000, 400}
	for i, s := range sizes {
		it := int(float64(iters[i]) * scale)
		if it < 50 {
			it = 50
		}
		warm := it / 20
		if warm < 5 {
			warm = 5
		}
		roundTrip(peer, s, it, warm)
	}
}
