package tubo

/*
#include <stdlib.h>
#include "tubo.h"
*/
import "C"

import (
	"context"
	"strings"
)

// waitContext blocks until the one thing that watch adds to a wait set (an
// end or a process, under key) is ready, or ctx is done.
//
// Cancellation without polling: the wait set also watches the read end of a
// private pipe, and a goroutine closes its write end when ctx is done, which
// wakes the wait at once. Everything (the set, the pipe, the goroutine) is
// gone when waitContext returns, whichever way it returns.
func waitContext(ctx context.Context, watch func(ws *C.tubo_wait_set, key C.uint64_t) error) error {
	const thingKey, cancelKey = 1, 2
	var ws *C.tubo_wait_set
	var cerr *C.tubo_error
	if err := takeError(C.tubo_wait_set_new(&ws, &cerr), cerr); err != nil {
		return err
	}
	defer C.tubo_wait_set_free(ws)
	if err := watch(ws, thingKey); err != nil {
		return err
	}
	if done := ctx.Done(); done != nil {
		var cr, cw *C.tubo_end
		if err := takeError(C.tubo_pipe_new(&cr, &cw, &cerr), cerr); err != nil {
			return err
		}
		defer C.tubo_end_free(cr)
		if err := takeError(C.tubo_wait_set_add_end(ws, cr, cancelKey, &cerr), cerr); err != nil {
			C.tubo_end_free(cw)
			return err
		}
		stop := make(chan struct{})
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			select {
			case <-done:
				C.tubo_end_close(cw, nil) // EOF on cr: the wait returns
			case <-stop:
			}
		}()
		defer func() {
			close(stop)
			<-exited // the goroutine no longer touches cw
			C.tubo_end_free(cw)
		}()
	}
	for {
		var keys [2]C.uint64_t
		var n C.size_t
		if err := takeError(C.tubo_wait_set_wait(&n, ws, &keys[0], 2, -1, &cerr), cerr); err != nil {
			return err
		}
		for _, k := range keys[:n] {
			if k == thingKey {
				return nil
			}
		}
		if n > 0 {
			return ctx.Err()
		}
	}
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
