package tubo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	tubo "github.com/tubo/tubo/bindings/go"
)

// entryMiddle starts an exec worker and a self worker (with DieWithParent
// as args[0] says), sends their pids on channel "out", then waits to be killed.
func entryMiddle(args []string) int {
	die := len(args) > 0 && args[0] == "1"
	out, err := tubo.TakeWriteEnd("out")
	if err != nil {
		return 2
	}
	exec, err := tubo.Command("/bin/sleep", "100").DieWithParent(die).Spawn()
	if err != nil {
		return 3
	}
	self, err := tubo.Self("sleep").DieWithParent(die).Spawn()
	if err != nil {
		return 4
	}
	if out.Send([]byte(fmt.Sprintf("%d %d", exec.Pid(), self.Pid()))) != nil || out.Close() != nil {
		return 5
	}
	time.Sleep(time.Hour)
	return 0
}

// gone reports whether pid has ended (no such process, or a zombie).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func goneWithin(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if gone(pid) {
			return true
		}
	}
	return gone(pid)
}

func startMiddle(t *testing.T, die bool) (*tubo.Process, []int) {
	t.Helper()
	r, w, err := tubo.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	flag := "0"
	if die {
		flag = "1"
	}
	middle, err := tubo.Self("middle", flag).Channel("out", w).Spawn()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := r.Recv()
	if err != nil {
		t.Fatalf("middle: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(msg)) {
		n, _ := strconv.Atoi(f)
		pids = append(pids, n)
	}
	if len(pids) != 2 {
		t.Fatalf("middle sent %q", msg)
	}
	return middle, pids
}

func TestDieWithParentStopsWorkersOfASigkilledParent(t *testing.T) {
	middle, pids := startMiddle(t, true)
	if err := middle.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := middle.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, pid := range pids {
		if !goneWithin(pid, 10*time.Second) {
			t.Errorf("worker %d (pid %d) outlived its SIGKILLed parent", i, pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestWorkersOutliveTheParentByDefault(t *testing.T) {
	middle, pids := startMiddle(t, false)
	middle.Kill()
	middle.Wait(context.Background())
	for _, pid := range pids {
		if goneWithin(pid, 300*time.Millisecond) {
			t.Errorf("pid %d died with its parent, though DieWithParent is off by default", pid)
		}
		syscall.Kill(pid, syscall.SIGKILL) // an orphan now: nothing else names it
	}
}

func TestSignalGroupStopsTheTree(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := tubo.Command("/bin/sh", "-c", "sleep 100 & sleep 100 & echo started; wait").
		NewProcessGroup(true).Stdout(tubo.StdioFile(w)).Spawn()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.LeadsGroup() {
		t.Fatal("LeadsGroup is false")
	}
	buf := make([]byte, 16)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	if err := p.SignalGroup(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := r.Read(buf); n != 0 || err == nil {
		t.Fatalf("after the group was killed: read %d, %v; want EOF", n, err)
	}
	if err := p.SignalGroup(syscall.SIGKILL); !errors.Is(err, tubo.ErrClosed) {
		t.Fatalf("SignalGroup after the reap: %v, want ErrClosed", err)
	}
	q, err := tubo.Command("/bin/true").Spawn()
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.SignalGroup(syscall.SIGTERM); !errors.Is(err, tubo.ErrInvalidArgument) {
		t.Fatalf("SignalGroup of a non-leader: %v, want ErrInvalidArgument", err)
	}
}
