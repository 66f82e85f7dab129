package tubo_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	tubo "github.com/tubo/tubo/bindings/go"
)

// Ends over an os.Pipe carry messages to a child and back; the files stay
// the caller's.
func TestNewEndOverAnOsPipeCarriesMessagesToAChild(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := tubo.NewEnd(r, tubo.ReadEnd)
	if err != nil {
		t.Fatal(err)
	}
	send, err := tubo.NewEnd(w, tubo.WriteEnd)
	if err != nil {
		t.Fatal(err)
	}
	// The Ends have their own descriptors: closing the files changes nothing.
	r.Close()
	w.Close()
	results, out, err := tubo.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer results.Close()
	p := spawn(t, tubo.Self("echo", "echo:").Channel("in", in).Channel("out", out))
	for _, m := range []string{"one", "two", "three"} {
		if err := send.Send([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if err := send.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		m, err := results.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(m))
	}
	if strings.Join(got, ",") != "echo:one,echo:two,echo:three" {
		t.Fatalf("received %q", got)
	}
	if st := wait(t, p); !st.Success() {
		t.Fatalf("status = %v", st)
	}
}

// os.Pipe's descriptors are non-blocking; the End's must block, or a message
// larger than the pipe's buffer would fail with EAGAIN.
func TestNewEndSendsAMessageLargerThanThePipeOverAnOsPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	reader, err := tubo.NewEnd(r, tubo.ReadEnd)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer, err := tubo.NewEnd(w, tubo.WriteEnd)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 4<<20)
	got := make(chan []byte, 1)
	go func() {
		m, _ := reader.Recv()
		got <- m
	}()
	if err := writer.Send(big); err != nil {
		t.Fatalf("Send of 4 MiB: %v", err)
	}
	if m := <-got; !bytes.Equal(m, big) {
		t.Fatalf("received %d bytes, want %d", len(m), len(big))
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	// w is still the caller's, and open.
	if _, err := w.Stat(); err != nil {
		t.Fatalf("the file was closed with the End: %v", err)
	}
}

func TestNewEndRefusesWhatCannotBeAnEnd(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	regular, err := os.Create(filepath.Join(t.TempDir(), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	closed, _, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	for _, c := range []struct {
		name string
		f    *os.File
		kind tubo.EndKind
		want error
		says string
	}{
		{"nil file", nil, tubo.ReadEnd, tubo.ErrInvalidArgument, "nil file"},
		{"closed file", closed, tubo.ReadEnd, tubo.ErrClosed, "is closed"},
		{"regular file", regular, tubo.WriteEnd, tubo.ErrInvalidArgument, "plain\": not a pipe or a socket (a regular file)"},
		{"bad kind", r, tubo.EndKind(9), tubo.ErrInvalidArgument, "kind 9 is not ReadEnd, WriteEnd or DuplexEnd"},
		{"read end on a write-only file", w, tubo.ReadEnd, tubo.ErrInvalidArgument, "write-only"},
		{"write end on a read-only file", r, tubo.WriteEnd, tubo.ErrInvalidArgument, "read-only"},
		{"duplex end on a pipe", r, tubo.DuplexEnd, tubo.ErrInvalidArgument, "a pipe is one-way"},
	} {
		e, err := tubo.NewEnd(c.f, c.kind)
		if !errors.Is(err, c.want) || !strings.Contains(fmtErr(err), c.says) {
			t.Errorf("%s: NewEnd = %v, %v; want %v saying %q", c.name, e, err, c.want, c.says)
		}
	}
	// A failure leaves the file open.
	if _, err := r.Stat(); err != nil {
		t.Fatalf("a failed NewEnd closed the file: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func isOpen(fd int) bool {
	_, err := fcntlGetfd(fd)
	return err == nil
}

func fcntlGetfd(fd int) (uintptr, error) {
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if errno != 0 {
		return 0, errno
	}
	return flags, nil
}

// EndFromFd takes the descriptor: the End closes it, and so does a failure.
func TestEndFromFdTakesTheDescriptor(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tubo.EndFromFd(fds[0], tubo.DuplexEnd)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tubo.EndFromFd(fds[1], tubo.DuplexEnd)
	if err != nil {
		t.Fatal(err)
	}
	if fl, _, _ := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_GETFL, 0); fl&syscall.O_NONBLOCK != 0 {
		t.Fatal("the End's descriptor is still non-blocking")
	}
	if fl, _ := fcntlGetfd(fds[0]); fl&syscall.FD_CLOEXEC == 0 {
		t.Fatal("the End's descriptor is not close-on-exec")
	}
	if err := a.Send([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if m, err := b.Recv(); err != nil || string(m) != "ping" {
		t.Fatalf("Recv = %q, %v", m, err)
	}
	a.Close()
	b.Close()
	if isOpen(fds[0]) || isOpen(fds[1]) {
		t.Fatal("Close left the adopted descriptors open")
	}

	regular, err := syscall.Open(filepath.Join(t.TempDir(), "plain"), syscall.O_CREAT|syscall.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tubo.EndFromFd(regular, tubo.ReadEnd); !errors.Is(err, tubo.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "descriptor "+strconv.Itoa(regular)+": not a pipe or a socket (a regular file)") {
		t.Fatalf("EndFromFd of a regular file = %v", err)
	}
	if isOpen(regular) {
		t.Fatal("a failed EndFromFd left the descriptor open")
	}
	dgram, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(dgram[1])
	if _, err := tubo.EndFromFd(dgram[0], tubo.DuplexEnd); !errors.Is(err, tubo.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "not a stream socket") {
		t.Fatalf("EndFromFd of a datagram socket = %v", err)
	}
}

func TestEndFromFdErrors(t *testing.T) {
	for _, c := range []struct {
		fd   int
		kind tubo.EndKind
		says string
	}{
		{-1, tubo.ReadEnd, "descriptor -1: the descriptor is negative"},
		{1 << 20, tubo.ReadEnd, "descriptor 1048576 is not open"},
		{1 << 20, tubo.EndKind(0), "kind 0 is not ReadEnd, WriteEnd or DuplexEnd"},
	} {
		if _, err := tubo.EndFromFd(c.fd, c.kind); !errors.Is(err, tubo.ErrInvalidArgument) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("EndFromFd(%d, %d) = %v, want ErrInvalidArgument saying %q", c.fd, int(c.kind), err, c.says)
		}
	}
}
