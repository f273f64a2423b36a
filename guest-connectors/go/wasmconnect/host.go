package wasmconnect

// The worker's services every role may use: its log, who this instance
// is, whether it should stop, and a source's stored offsets.

import (
	"fmt"
	"time"

	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/context"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/logging"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/offsets"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// Level is a log level.
type Level uint8

const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

// Logf logs through the worker, tagged with the connector and task. The
// message is formatted only when the level is enabled.
func Logf(level Level, format string, args ...any) {
	if logging.Enabled(logging.Level(level)) {
		logging.Log(logging.Level(level), fmt.Sprintf(format, args...))
	}
}

func Debugf(format string, args ...any) { Logf(LevelDebug, format, args...) }
func Infof(format string, args ...any)  { Logf(LevelInfo, format, args...) }
func Warnf(format string, args ...any)  { Logf(LevelWarn, format, args...) }
func Errorf(format string, args ...any) { Logf(LevelError, format, args...) }

// ConnectorName is the name the connector was created with.
func ConnectorName() string { return context.ConnectorName() }

// TaskID is this task's number; false in a connector's instance.
func TaskID() (uint32, bool) {
	if id := context.TaskID(); id != nil {
		return *id, true
	}
	return 0, false
}

// StopRequested reports whether the worker wants this instance to stop.
func StopRequested() bool { return context.StopRequested() }

// SleepUnlessStopped sleeps for d in short naps, returning true early once
// the worker asks this instance to stop. An idle Poll calls it rather than
// returning empty batches in a tight loop.
func SleepUnlessStopped(d time.Duration) bool {
	const nap = 20 * time.Millisecond
	deadline := time.Now().Add(d)
	for {
		if StopRequested() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(nap, left))
	}
}

// ReadOffset returns the stored offset (a JSON object) of a source
// partition (a JSON object), or "" when none is stored.
func ReadOffset(partition string) (string, error) {
	stored, err := ReadOffsets([]string{partition})
	if err != nil {
		return "", err
	}
	return stored[0], nil
}

// ReadOffsets is ReadOffset for several partitions in one call; the
// answer is aligned with partitions.
func ReadOffsets(partitions []string) ([]string, error) {
	result := offsets.Read(partitions)
	if result.IsErr {
		return nil, errorFromTaskError(result.Err)
	}
	stored := make([]string, len(partitions))
	for i, offset := range result.Ok {
		if i < len(stored) && offset != nil {
			stored[i] = *offset
		}
	}
	return stored, nil
}

// errorFromTaskError turns a task-error from the host into a Go error.
func errorFromTaskError(e types.TaskError) error {
	if e.Tag == types.TaskErrorRetriable {
		err := &RetriableError{Err: Fatal(e.Retriable.Message)}
		if e.Retriable.BackoffMs != nil {
			err.Backoff = time.Duration(*e.Retriable.BackoffMs) * time.Millisecond
		}
		return err
	}
	return Fatal(e.Fatal)
}
