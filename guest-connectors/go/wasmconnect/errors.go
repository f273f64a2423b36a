package wasmconnect

// How a call fails: a retriable error makes the worker wait and repeat
// the same call; any other error fails the task with its message.

import (
	"errors"
	"time"
)

// RetriableError wraps an error the worker retries (Kafka Connect's
// RetriableException), after Backoff if it is set.
type RetriableError struct {
	Err     error
	Backoff time.Duration
}

func (e *RetriableError) Error() string { return e.Err.Error() }
func (e *RetriableError) Unwrap() error { return e.Err }

// Retriable marks err as transient: the worker repeats the call (Put with
// the same records, Poll again) after its errors.retry backoff.
func Retriable(err error) error { return &RetriableError{Err: err} }

// RetriableAfter marks err as transient and asks for backoff before the
// worker repeats the call.
func RetriableAfter(err error, backoff time.Duration) error {
	return &RetriableError{Err: err, Backoff: backoff}
}

// IsRetriable reports whether err, or an error it wraps, is retriable.
func IsRetriable(err error) bool {
	var retriable *RetriableError
	return errors.As(err, &retriable)
}

// Fatal returns an error that fails the task with message as its trace.
// Any error that is not retriable is fatal; this is errors.New by a name
// that says so.
func Fatal(message string) error { return errors.New(message) }
