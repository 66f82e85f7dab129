package tubo

/*
#include <stdlib.h>
#include "tubo.h"

// The C entry point behind every Go entry (exported below): the library
// calls it with argv[0] set to the entry's name.
extern int tuboGoEntry(int argc, char **argv);
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"unsafe"
)

// EntryFunc is an entry point of the self start method: args are the
// arguments given to Self; the return value is the exit code.
type EntryFunc func(args []string) int

var (
	entriesMu sync.Mutex
	entries   = map[string]EntryFunc{}
)

// RegisterEntry registers fn as the self entry point name, for Self(name).
// Register every entry before RunEntryIfRequested, in init or at the top of
// main, and in the parent too (Spawn checks the name exists). Names match
// [A-Za-z0-9_.-]{1,64}; a taken or invalid name is ErrInvalidArgument.
//
//	func main() {
//		tubo.RegisterEntry("square", square)
//		tubo.RunEntryIfRequested() // in a worker: runs the entry and exits
//		...
//		p, err := tubo.Self("square", "43").Spawn()
func RegisterEntry(name string, fn EntryFunc) error {
	if versionErr != nil {
		return versionErr
	}
	if fn == nil {
		return &Error{Code: CodeInvalidArgument, Message: "tubo: RegisterEntry " + quote(name) + ": nil function"}
	}
	cname, err := cString("entry name", name)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cname))
	entriesMu.Lock()
	defer entriesMu.Unlock()
	var cerr *C.tubo_error
	if err := takeError(C.tubo_entry_register(cname, (C.tubo_entry_fn)(unsafe.Pointer(C.tuboGoEntry)), &cerr), cerr); err != nil {
		return err
	}
	entries[name] = fn
	return nil
}

// MustRegisterEntry is RegisterEntry that panics on error, for use in init
// or package-level variable declarations.
func MustRegisterEntry(name string, fn EntryFunc) {
	if err := RegisterEntry(name, fn); err != nil {
		panic(err)
	}
}

// RunEntryIfRequested returns at once unless this process was started by
// Self: then it runs the requested entry with its arguments and exits with
// its return value, never returning. An unknown entry prints an error and
// exits with 2; an entry that panics prints the panic and its stack on
// stderr and exits with 1. Call it first thing in main (in tests, in
// TestMain), after registering the entries.
func RunEntryIfRequested() {
	if versionErr != nil {
		return
	}
	argv := make([]*C.char, len(os.Args)+1) // C pointers only, so C may read it
	for i, a := range os.Args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, a := range argv {
			C.free(unsafe.Pointer(a))
		}
	}()
	C.tubo_run_entry_if_requested(C.int(len(os.Args)), &argv[0])
}

//export tuboGoEntry
func tuboGoEntry(argc C.int, argv **C.char) (code C.int) {
	cargs := unsafe.Slice(argv, int(argc))
	name := C.GoString(cargs[0])
	args := make([]string, 0, len(cargs)-1)
	for _, a := range cargs[1:] {
		args = append(args, C.GoString(a))
	}
	entriesMu.Lock()
	fn := entries[name]
	entriesMu.Unlock()
	if fn == nil {
		fmt.Fprintf(os.Stderr, "tubo: no Go entry point %q is registered in this binary\n", name)
		return 2
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "tubo: entry %q: panic: %v\n\n%s", name, r, debug.Stack())
			code = 1
		}
	}()
	return C.int(fn(args))
}
