package tubo_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	tubo "github.com/tubo/tubo/bindings/go"
)

// errnoOf is the syscall.Errno that err wraps, failing the test without one.
func errnoOf(t *testing.T, err error) syscall.Errno {
	t.Helper()
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		t.Fatalf("%v (%T) wraps no syscall.Errno", err, err)
	}
	var te *tubo.Error
	if !errors.As(err, &te) || te.Errno != errno {
		t.Fatalf("%v: Errno field %v, unwrapped %v", err, te, errno)
	}
	return errno
}

func TestSendToAClosedReaderWrapsEPIPE(t *testing.T) {
	r, w := mustPipe(t)
	r.Close()
	err := w.Send([]byte("nobody listens"))
	if !errors.Is(err, tubo.ErrPeerClosed) || !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Send = %v, want ErrPeerClosed wrapping EPIPE", err)
	}
	if errno := errnoOf(t, err); errno != syscall.EPIPE {
		t.Fatalf("errno %d, want EPIPE", errno)
	}
}

func TestAFailedSystemCallWrapsItsErrno(t *testing.T) {
	p := spawn(t, tubo.Command("sleep", "30"))
	defer p.Close()
	err := p.Signal(syscall.Signal(1000))
	if !errors.Is(err, tubo.ErrSystem) || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Signal(1000) = %v, want ErrSystem wrapping EINVAL", err)
	}
}

func TestMissingProgramIsNotExistButNotAPathLookup(t *testing.T) {
	_, err := tubo.Command("/nonexistent/program").Spawn()
	if !errors.Is(err, tubo.ErrSpawn) || !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Spawn = %v, want ErrSpawn wrapping ENOENT (fs.ErrNotExist)", err)
	}
	if errnoOf(t, err) != syscall.ENOENT {
		t.Fatalf("errno of %v", err)
	}
	if errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("%v matches exec.ErrNotFound: a path with a slash is not looked up", err)
	}
}

func TestPathLookupFailureIsExecErrNotFound(t *testing.T) {
	_, err := tubo.Command("no-such-program-in-path-xyz").Spawn()
	if !errors.Is(err, exec.ErrNotFound) || !errors.Is(err, tubo.ErrSpawn) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Spawn = %v, want exec.ErrNotFound, ErrSpawn and fs.ErrNotExist", err)
	}
	// The same name with the lookup turned off is a missing file, not a failed lookup.
	_, err = tubo.Command("no-such-program-in-path-xyz").SearchPath(false).Spawn()
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("Spawn without lookup = %v, want fs.ErrNotExist only", err)
	}
}

func TestMissingDirIsNotExistButNotAPathLookup(t *testing.T) {
	_, err := tubo.Command("sh").Dir("/nonexistent/dir").Spawn()
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("Spawn = %v, want fs.ErrNotExist and not exec.ErrNotFound", err)
	}
}

func TestProgramThatIsNotExecutableIsPermission(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := tubo.Command(path).Spawn()
	if !errors.Is(err, fs.ErrPermission) || errnoOf(t, err) != syscall.EACCES {
		t.Fatalf("Spawn = %v, want EACCES (fs.ErrPermission)", err)
	}
}

func TestErrorsWithoutAnErrnoWrapNone(t *testing.T) {
	_, err := tubo.Self("never_registered").Spawn()
	if !errors.Is(err, tubo.ErrSpawn) {
		t.Fatalf("an unknown entry: %v", err)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) || errors.Unwrap(err) != nil {
		t.Fatalf("%v wraps %v", err, errors.Unwrap(err))
	}
	if errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("%v matches exec.ErrNotFound", err)
	}
}

func TestUnknownEntryNamesRegisterEntry(t *testing.T) {
	_, err := tubo.Self("never_registered").Spawn()
	if err == nil || !strings.Contains(err.Error(), "tubo.RegisterEntry") ||
		!strings.Contains(err.Error(), `"never_registered"`) || strings.Contains(err.Error(), "TUBO_ENTRY") {
		t.Fatalf("Spawn = %v, want a message naming the entry and tubo.RegisterEntry, not TUBO_ENTRY", err)
	}
}
