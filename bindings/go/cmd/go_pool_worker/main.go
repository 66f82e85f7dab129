// go_pool_worker: the Go worker of the cross-language pool matrix, a pool
// worker (contract 4) over tubo.ServePoolTasks, serving the task language of
// tests/pool/workers.h that the matrix uses: "echo X" returns X, "fail MSG"
// fails with MSG, "kill X" SIGKILLs the worker; anything else fails with
// "unknown task".
//
//	go_pool_worker   (run by a pool with the exec start method)
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"

	tubo "github.com/tubo/tubo/bindings/go"
)

func run(task []byte) ([]byte, error) {
	op, arg, _ := bytes.Cut(task, []byte(" "))
	switch string(op) {
	case "echo":
		return arg, nil
	case "fail":
		return nil, errors.New(string(arg))
	case "kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return nil, fmt.Errorf("unknown task %.40q", task)
}

func main() { os.Exit(tubo.ServePoolTasks(run)) }
