package tubo

/*
#include "tubo.h"
*/
import "C"

import (
	"context"
	"sort"
	"unsafe"
)

// waitContext blocks until the one thing that watch adds to a wait set (an
// end or a process, under key) is ready, or ctx is done.
func waitContext(ctx context.Context, watch func(ws *C.tubo_wait_set, key C.uint64_t) error) error {
	_, err := waitReady(ctx, 1, func(ws *C.tubo_wait_set) error { return watch(ws, 0) })
	return err
}

// waitReady blocks until at least one of the n things that watch adds to a
// wait set (under keys 0..n-1) is ready, and returns their keys; or until
// ctx is done, and returns ctx.Err().
//
// Cancellation without polling: the wait set also watches the read end of a
// private pipe, and a goroutine closes its write end when ctx is done, which
// wakes the wait at once. Everything (the set, the pipe, the goroutine) is
// gone when waitReady returns, whichever way it returns.
func waitReady(ctx context.Context, n int, watch func(ws *C.tubo_wait_set) error) ([]uint64, error) {
	cancelKey := C.uint64_t(n)
	var ws *C.tubo_wait_set
	var cerr *C.tubo_error
	if err := takeError(C.tubo_wait_set_new(&ws, &cerr), cerr); err != nil {
		return nil, err
	}
	defer C.tubo_wait_set_free(ws)
	if err := watch(ws); err != nil {
		return nil, err
	}
	if done := ctx.Done(); done != nil {
		var cr, cw *C.tubo_end
		if err := takeError(C.tubo_pipe_new(&cr, &cw, &cerr), cerr); err != nil {
			return nil, err
		}
		defer C.tubo_end_free(cr)
		if err := takeError(C.tubo_wait_set_add_end(ws, cr, cancelKey, &cerr), cerr); err != nil {
			C.tubo_end_free(cw)
			return nil, err
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
	keys := make([]C.uint64_t, n+1)
	for {
		var got C.size_t
		if err := takeError(C.tubo_wait_set_wait(&got, ws, &keys[0], C.size_t(n+1), -1, &cerr), cerr); err != nil {
			return nil, err
		}
		var ready []uint64
		for _, k := range keys[:got] {
			if k != cancelKey {
				ready = append(ready, uint64(k))
			}
		}
		if len(ready) > 0 {
			return ready, nil
		}
		if got > 0 {
			return nil, ctx.Err()
		}
	}
}

// WaitEnds waits until at least one end of recv has something to receive (a
// message, or the end of the stream), or one end of send can make progress
// sending without blocking (room in its pipe, or its readers gone: see
// PollWrite), or ctx is done (then it returns ctx.Err()). It returns the
// ready ends of each list, in the lists' order. Nothing is received or sent.
//
// So one goroutine can feed many workers: WaitEnds reports an End writable,
// TrySend offers it the next message, and so on. A writable End stays ready
// while it has room: list only the ends that have something to send.
//
// Each End may appear once in all (a descriptor is watched one way per
// wait); a closed End, a read end in send or a write end in recv is an
// error. The ends are locked while WaitEnds waits: their other methods (a
// Close from another goroutine) wait for it to return.
func WaitEnds(ctx context.Context, recv, send []*End) (readyRecv, readySend []*End, err error) {
	all := make([]*End, 0, len(recv)+len(send))
	all = append(all, recv...)
	all = append(all, send...)
	// Lock in address order, so that two WaitEnds over the same ends
	// cannot deadlock.
	order := make([]*End, len(all))
	copy(order, all)
	sort.Slice(order, func(i, j int) bool {
		return uintptr(unsafe.Pointer(order[i])) < uintptr(unsafe.Pointer(order[j]))
	})
	for i, e := range order {
		if e == nil {
			return nil, nil, &Error{Code: CodeInvalidArgument, Message: "tubo: WaitEnds: nil End"}
		}
		if i > 0 && order[i-1] == e {
			return nil, nil, &Error{Code: CodeInvalidArgument, Message: "tubo: WaitEnds: an End is listed twice"}
		}
	}
	for _, e := range order {
		e.mu.Lock()
		defer e.mu.Unlock()
	}
	for _, e := range all {
		if e.h == nil {
			return nil, nil, closedError("end")
		}
	}
	keys, err := waitReady(ctx, len(all), func(ws *C.tubo_wait_set) error {
		var cerr *C.tubo_error
		for i, e := range all {
			var rc C.int
			if i < len(recv) {
				rc = C.tubo_wait_set_add_end(ws, e.h, C.uint64_t(i), &cerr)
			} else {
				rc = C.tubo_wait_set_add_end_writable(ws, e.h, C.uint64_t(i), &cerr)
			}
			if err := takeError(rc, cerr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		if int(k) < len(recv) {
			readyRecv = append(readyRecv, all[k])
		} else {
			readySend = append(readySend, all[k])
		}
	}
	return readyRecv, readySend, nil
}
