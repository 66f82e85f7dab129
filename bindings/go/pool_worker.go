package tubo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// The worker side of contract 4, in Go over Ends: a task frame is an 8-byte
// big-endian id (never 0) and the task's bytes; a result frame the id, a
// status byte and the body.
const (
	poolStatusDone   = 0 // the body is the result
	poolStatusFailed = 1 // the body is a UTF-8 message
	poolStatusReady  = 2 // sent once, first, with id 0 and no body
)

// ServePoolTasks is a pool worker's whole body (C++ ServePoolTasks, C
// tubo_pool_serve): it takes the channels "tasks" and "results"
// (TakeReadEnd, TakeWriteEnd), sends the ready frame, then runs fn on each
// task and sends its result before reading the next, until end of stream on
// "tasks". fn returning an error fails that task with the error's text (a
// panic in fn fails it with the panic's value); the worker goes on. Returns
// the worker's exit code: 0 after end of stream, 1 after an error (printed
// on standard error, naming it).
func ServePoolTasks(fn func(task []byte) ([]byte, error)) int {
	if err := servePoolTasks(fn); err != nil {
		fmt.Fprintln(os.Stderr, "pool worker:", err)
		return 1
	}
	return 0
}

func servePoolTasks(fn func(task []byte) ([]byte, error)) error {
	tasks, err := TakeReadEnd("tasks")
	if err != nil {
		return err
	}
	defer tasks.Close()
	results, err := TakeWriteEnd("results")
	if err != nil {
		return err
	}
	if err := results.Send(resultFrame(0, poolStatusReady, nil)); err != nil {
		results.Close()
		return err
	}
	for {
		frame, err := tasks.Recv()
		if errors.Is(err, io.EOF) {
			return results.Close()
		}
		if err != nil {
			results.Close()
			return err
		}
		id, body, err := decodeTask(frame)
		if err != nil {
			results.Close()
			return err
		}
		out, err := runPoolTask(fn, body)
		reply := resultFrame(id, poolStatusDone, out)
		if err != nil {
			reply = resultFrame(id, poolStatusFailed, []byte(err.Error()))
		}
		if err := results.Send(reply); err != nil {
			results.Close()
			return err
		}
	}
}

// runPoolTask runs fn, turning a panic into the task's error.
func runPoolTask(fn func([]byte) ([]byte, error), task []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(task)
}

func decodeTask(frame []byte) (uint64, []byte, error) {
	if len(frame) < 8 {
		return 0, nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("tubo: a task frame of %d bytes (at least 8: the task id)", len(frame))}
	}
	id := binary.BigEndian.Uint64(frame)
	if id == 0 {
		return 0, nil, &Error{Code: CodeInvalidArgument, Message: "tubo: a task frame with id 0"}
	}
	return id, frame[8:], nil
}

func resultFrame(id uint64, status byte, body []byte) []byte {
	frame := make([]byte, 9+len(body))
	binary.BigEndian.PutUint64(frame, id)
	frame[8] = status
	copy(frame[9:], body)
	return frame
}
