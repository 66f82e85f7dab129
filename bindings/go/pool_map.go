package tubo

import (
	"context"
)

// Map runs a task for every input that inputs yields (an iter.Seq[[]byte]:
// a range-over-func iterator) and calls each(index, result, err) with the
// outcomes in input order (index counts from 0). At most the pool's window
// (PoolOptions.MaxInFlight, resolved) of the map's tasks are submitted and
// not yet given to each, so the input is read as results are consumed,
// never materialised. A task's failure is its outcome (err), not the map's.
// each returning false stops the map: its tasks not yet sent are cancelled,
// the others finish unobserved. inputs and each run on the calling goroutine.
//
// Errors: those of Submit (ctx's error among them); the map's tasks not yet
// sent are then cancelled.
func (p *Pool) Map(ctx context.Context, inputs func(yield func([]byte) bool), each func(index int, result []byte, err error) bool) error {
	return p.mapTasks(ctx, true, inputs, each)
}

// MapUnordered is Map with the outcomes in the order the tasks finish
// (index still names the input).
func (p *Pool) MapUnordered(ctx context.Context, inputs func(yield func([]byte) bool), each func(index int, result []byte, err error) bool) error {
	return p.mapTasks(ctx, false, inputs, each)
}

type mapEntry struct {
	index int
	task  *Task
}

func (p *Pool) mapTasks(ctx context.Context, ordered bool, inputs func(yield func([]byte) bool), each func(int, []byte, error) bool) error {
	var window []mapEntry
	stopped := false
	var failure error
	// emit gives one outcome to each: the oldest (ordered) or any done one.
	emit := func() bool {
		at := 0
		if !ordered {
			err := p.waitUntil(ctx, func() bool {
				for i, e := range window {
					if e.task.Done() {
						at = i
						return true
					}
				}
				return false
			})
			if err != nil {
				failure = err
				return false
			}
		}
		e := window[at]
		result, err := e.task.Result(ctx)
		if err != nil && err == ctx.Err() {
			failure = err
			return false
		}
		window = append(window[:at], window[at+1:]...)
		if !each(e.index, result, err) {
			stopped = true
			return false
		}
		return true
	}
	next := 0
	inputs(func(input []byte) bool {
		for len(window) >= p.window {
			if !emit() {
				return false
			}
		}
		t, err := p.Submit(ctx, input)
		if err != nil {
			failure = err
			return false
		}
		window = append(window, mapEntry{next, t})
		next++
		return true
	})
	for failure == nil && !stopped && len(window) > 0 {
		emit()
	}
	if failure != nil || stopped {
		for _, e := range window {
			e.task.Cancel()
		}
	}
	return failure
}
