// Package sink makes a Go program a wasmconnect sink connector: Register
// a Connector from an init function, and the module exports the sink
// world's functions (plugin, connector, sink-task).
package sink

import (
	"fmt"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/kit"
	"wasmconnect/go/wasmconnect/internal/wit/cabi"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/batches"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/errantrecords"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/sinktask"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// Task is what a task instance does: Start once with the task's
// configuration, Put for each batch of records, Stop once.
type Task interface {
	Start(config wc.Config) error
	// Put writes records (or buffers them until Flush). A retriable
	// error (wc.Retriable) has the same records delivered again after a
	// backoff; any other error fails the task.
	Put(records []wc.SinkRecord) error
	Stop()
}

// Flusher is an optional Task method: before the worker commits consumer
// offsets, Flush writes out everything buffered. Without PreCommitter,
// the offsets after the last record Put received are committed once it
// returns nil.
type Flusher interface{ Flush() error }

// PreCommitter is an optional Task method that chooses the offsets to
// commit itself (Kafka's SinkTask.preCommit): current holds, for each
// partition, the offset after the last record Put received; return the
// offsets that are safe to commit (none commits nothing).
type PreCommitter interface {
	PreCommit(current []wc.PartitionOffset) ([]wc.PartitionOffset, error)
}

// PartitionTracker is an optional Task method pair: the task was assigned
// partitions (records from them follow), or lost them (write out
// anything buffered for them).
type PartitionTracker interface {
	Open(partitions []wc.TopicPartition) error
	Close(partitions []wc.TopicPartition) error
}

// Connector describes a sink connector.
type Connector struct {
	Metadata wc.Metadata
	Keys     []wc.Key
	// Validate checks a configuration beyond the required keys, which the
	// kit checks itself. Optional.
	Validate func(wc.Config) []wc.ConfigError
	// TaskConfigs splits the work; nil gives every task the connector's
	// configuration (the worker divides the topics' partitions among them).
	TaskConfigs func(config wc.Config, maxTasks int) ([]wc.Config, error)
	// NewTask makes a task.
	NewTask func() Task
}

// Report hands record, which Put was given, to the connector's error
// handling (errors.tolerance, the dead letter queue) as failed with
// reason, and Put goes on with the rest of its batch. When the connector
// does not tolerate errors the task fails once Put returns; Report then
// returns the trace it will fail with.
func Report(record wc.SinkRecord, reason error) error {
	witRecord, err := kit.WITSinkRecord(record)
	if err != nil {
		return err
	}
	if result := errantrecords.Report(witRecord, reason.Error()); result.IsErr {
		return wc.Fatal(result.Err)
	}
	return nil
}

func partitions(in []types.TopicPartition) []wc.TopicPartition {
	out := make([]wc.TopicPartition, len(in))
	for i, p := range in {
		out[i] = wc.TopicPartition{Topic: p.Topic, Partition: p.Partition}
	}
	return out
}

// Register makes c the component's connector. Call it from init.
func Register(c Connector) {
	if c.NewTask == nil {
		panic("wasmconnect: sink.Connector.NewTask is nil")
	}
	p := &kit.Plugin{Metadata: c.Metadata, Kind: kit.Sink, Keys: c.Keys, Validate: c.Validate}
	kit.Serve(p)
	kit.ServeConnector(p, c.TaskConfigs)

	var task Task
	// started guards the calls that need a task: the worker only makes
	// them after start, but a failed start leaves no task behind.
	started := func() error {
		if task == nil {
			return wc.Fatal("the task was not started")
		}
		return nil
	}
	sinktask.Exports.Start = func(config types.Config) cabi.Result[cabi.Unit, types.TaskError] {
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
	sinktask.Exports.Open = func(assigned []types.TopicPartition) cabi.Result[cabi.Unit, types.TaskError] {
		return kit.Result(kit.Guard(func() error {
			if err := started(); err != nil {
				return err
			}
			if tracker, ok := task.(PartitionTracker); ok {
				return tracker.Open(partitions(assigned))
			}
			return nil
		}))
	}
	sinktask.Exports.Close = func(revoked []types.TopicPartition) cabi.Result[cabi.Unit, types.TaskError] {
		return kit.Result(kit.Guard(func() error {
			if err := started(); err != nil {
				return err
			}
			if tracker, ok := task.(PartitionTracker); ok {
				return tracker.Close(partitions(revoked))
			}
			return nil
		}))
	}
	sinktask.Exports.Put = func(batch batches.SinkBatch) cabi.Result[cabi.Unit, types.TaskError] {
		return kit.Result(kit.Guard(func() error {
			if err := started(); err != nil {
				return err
			}
			records, err := kit.UnpackSink(batch)
			if err != nil {
				return err
			}
			return task.Put(records)
		}))
	}
	sinktask.Exports.PreCommit = func(current []types.PartitionOffset) cabi.Result[[]types.PartitionOffset, types.TaskError] {
		var commit []types.PartitionOffset
		err := kit.Guard(func() error {
			if err := started(); err != nil {
				return err
			}
			positions := make([]wc.PartitionOffset, len(current))
			for i, c := range current {
				positions[i] = wc.PartitionOffset{Topic: c.Topic, Partition: c.Partition, Offset: c.Offset}
			}
			if committer, ok := task.(PreCommitter); ok {
				chosen, err := committer.PreCommit(positions)
				if err != nil {
					return err
				}
				commit = make([]types.PartitionOffset, len(chosen))
				for i, c := range chosen {
					if c.Offset < 0 {
						return fmt.Errorf("PreCommit returned offset %d for %s-%d; offsets are never negative", c.Offset, c.Topic, c.Partition)
					}
					commit[i] = types.PartitionOffset{Topic: c.Topic, Partition: c.Partition, Offset: c.Offset}
				}
				return nil
			}
			if flusher, ok := task.(Flusher); ok {
				if err := flusher.Flush(); err != nil {
					return err
				}
			}
			commit = current
			return nil
		})
		return kit.ResultOf(commit, err)
	}
	sinktask.Exports.Stop = func() {
		if task == nil {
			return
		}
		if err := kit.Guard(func() error { task.Stop(); return nil }); err != nil {
			wc.Errorf("stop: %v", err)
		}
		task = nil
	}
}
