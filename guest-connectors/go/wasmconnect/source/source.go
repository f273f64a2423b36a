// Package source makes a Go program a wasmconnect source connector:
// Register a Connector from an init function, and the module exports the
// source world's functions (plugin, connector, source-task).
package source

import (
	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/kit"
	"wasmconnect/go/wasmconnect/internal/wit/cabi"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/batches"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/sourcetask"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// Task is what a task instance does: Start once with the task's
// configuration, Poll repeatedly, Stop once.
type Task interface {
	Start(config wc.Config) error
	// Poll returns the next records, or none when nothing is ready; it
	// should return within a second or so, so that the task can be paused
	// or stopped.
	Poll() ([]wc.SourceRecord, error)
	Stop()
}

// Committer is an optional Task method, called after the worker has
// stored the offsets of every record Kafka acknowledged so far.
type Committer interface{ Commit() error }

// Connector describes a source connector.
type Connector struct {
	Metadata wc.Metadata
	Keys     []wc.Key
	// Validate checks a configuration beyond the required keys, which the
	// kit checks itself. Optional.
	Validate func(wc.Config) []wc.ConfigError
	// TaskConfigs splits the work; nil gives every task the connector's
	// configuration.
	TaskConfigs func(config wc.Config, maxTasks int) ([]wc.Config, error)
	// NewTask makes a task.
	NewTask func() Task
}

// Register makes c the component's connector. Call it from init.
func Register(c Connector) {
	if c.NewTask == nil {
		panic("wasmconnect: source.Connector.NewTask is nil")
	}
	p := &kit.Plugin{Metadata: c.Metadata, Kind: kit.Source, Keys: c.Keys, Validate: c.Validate}
	kit.Serve(p)
	kit.ServeConnector(p, c.TaskConfigs)

	var task Task
	sourcetask.Exports.Start = func(config types.Config) cabi.Result[cabi.Unit, types.TaskError] {
		values := p.Effective(config)
		err := p.FirstProblem(values)
		if err == nil {
			err = kit.Guard(func() error {
				task = c.NewTask()
				return task.Start(values)
			})
		}
		return kit.Result(err)
	}
	sourcetask.Exports.Poll = func() cabi.Result[batches.SourceBatch, types.TaskError] {
		var batch batches.SourceBatch
		err := kit.Guard(func() error {
			if task == nil {
				return wc.Fatal("poll before start")
			}
			records, err := task.Poll()
			if err != nil {
				return err
			}
			batch, err = kit.PackSource(records)
			return err
		})
		return kit.ResultOf(batch, err)
	}
	sourcetask.Exports.CommitRecords = func([]sourcetask.RecordAck) cabi.Result[cabi.Unit, types.TaskError] {
		// The kit sets no ack tokens, so no record is reported here.
		return kit.Result(nil)
	}
	sourcetask.Exports.Commit = func() cabi.Result[cabi.Unit, types.TaskError] {
		return kit.Result(kit.Guard(func() error {
			if committer, ok := task.(Committer); ok {
				return committer.Commit()
			}
			return nil
		}))
	}
	sourcetask.Exports.Stop = func() {
		if task == nil {
			return
		}
		if err := kit.Guard(func() error { task.Stop(); return nil }); err != nil {
			wc.Errorf("stop: %v", err)
		}
		task = nil
	}
}
