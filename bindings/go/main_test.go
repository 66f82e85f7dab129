package tubo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// The test binary is its own worker (the self start method, libuv style):
// TestMain registers the entries and dispatches before the tests run.
func TestMain(m *testing.M) {
	tubo.MustRegisterEntry("echo", entryEcho)
	tubo.MustRegisterEntry("echo_duplex", entryEchoDuplex)
	tubo.MustRegisterEntry("exit_with", entryExitWith)
	tubo.MustRegisterEntry("panics", func([]string) int { panic("on purpose") })
	tubo.MustRegisterEntry("take", entryTake)
	tubo.MustRegisterEntry("sleep", func([]string) int { time.Sleep(time.Minute); return 0 })
	tubo.MustRegisterEntry("middle", entryMiddle)
	tubo.MustRegisterEntry("pool_worker", func([]string) int { return tubo.ServePoolTasks(runPoolTask) })
	tubo.MustRegisterEntry("pool_chaos_worker", entryPoolChaosWorker)
	tubo.RunEntryIfRequested()
	os.Exit(m.Run())
}

// entryEcho echoes channel in to channel out until EOF, with its argument as a prefix.
func entryEcho(args []string) int {
	in, err := tubo.TakeReadEnd("in")
	if err != nil {
		return 10
	}
	out, err := tubo.TakeWriteEnd("out")
	if err != nil {
		return 11
	}
	for {
		m, err := in.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 12
		}
		if err := out.Send(append([]byte(strings.Join(args, " ")), m...)); err != nil {
			return 13
		}
	}
	if out.Close() != nil {
		return 14
	}
	return 0
}

// entryEchoDuplex echoes on the duplex channel io until the parent half-closes it.
func entryEchoDuplex(args []string) int {
	e, err := tubo.TakeDuplexEnd("io")
	if err != nil {
		return 10
	}
	for {
		m, err := e.Recv()
		if errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil || e.Send(m) != nil {
			return 12
		}
	}
}

func entryExitWith(args []string) int {
	var code int
	fmt.Sscan(args[0], &code)
	return code
}

// entryTake takes channel args[0] as kind args[1], twice when args[2] is "twice";
// exits with 0 on success, 3 on ErrChannel, 4 on another error.
func entryTake(args []string) int {
	take := map[string]func(string) (*tubo.End, error){
		"r": tubo.TakeReadEnd, "w": tubo.TakeWriteEnd, "rw": tubo.TakeDuplexEnd,
	}[args[1]]
	_, err := take(args[0])
	if err == nil && len(args) > 2 {
		_, err = take(args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, tubo.ErrChannel):
		return 3
	}
	return 4
}

func wait(t *testing.T, p *tubo.Process) tubo.ExitStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := p.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return st
}

func spawn(t *testing.T, c *tubo.Cmd) *tubo.Process {
	t.Helper()
	p, err := c.Spawn()
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
