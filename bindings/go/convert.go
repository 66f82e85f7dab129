package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"math"
	"strings"
	"time"
	"unsafe"
)

// Go values as the C ABI takes them.

// bytesPtr is the address of b's first byte for a C call (nil for an empty
// b). Passed as the argument itself, it keeps b alive and in place for the
// call; the library copies what it keeps.
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// durationMs converts a timeout for the C ABI: negative is forever, and a
// partial millisecond rounds up so that a short timeout still waits.
func durationMs(d time.Duration) C.int64_t {
	if d < 0 {
		return -1
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxInt64/2 {
		ms = math.MaxInt64 / 2
	}
	return C.int64_t(ms)
}

// cBool is b as a C flag (1 or 0).
func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// cString copies s to C memory (the caller frees it); a NUL byte in s, which
// C would silently cut it at, is an invalid argument.
func cString(what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Code: CodeInvalidArgument, Message: "tubo: " + what + " " + quote(s) + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\x00", `\x00`) + "\"" }
