package wasmconnect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is a connector's or task's configuration.
type Config map[string]string

// String returns the trimmed value of key, or def when it is unset or blank.
func (c Config) String(key, def string) string {
	if v := strings.TrimSpace(c[key]); v != "" {
		return v
	}
	return def
}

// Int returns key as an integer, def when unset or blank, and an error
// naming the key when it is not an integer.
func (c Config) Int(key string, def int64) (int64, error) {
	v := strings.TrimSpace(c[key])
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, not %q", key, v)
	}
	return n, nil
}

// Clone returns a copy that the caller may change.
func (c Config) Clone() Config {
	out := make(Config, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Type is a configuration value's type (Kafka's ConfigDef.Type).
type Type uint8

const (
	Boolean Type = iota
	String
	Int
	Short
	Long
	Double
	List
	Class
	Password
)

// Importance is Kafka's ConfigDef.Importance. The zero value is Medium,
// as in Kafka.
type Importance uint8

const (
	Medium Importance = iota
	High
	Low
)

// wit is the WIT enum's index (high, medium, low).
func (i Importance) wit() uint8 {
	switch i {
	case High:
		return 0
	case Low:
		return 2
	default:
		return 1
	}
}

// Resource marks a key whose value names something the sandbox must
// grant (a file to read, a host to reach, …).
type Resource uint8

const (
	NoResource Resource = iota
	ReadFile
	WriteFile
	ReadDirectory
	WriteDirectory
	NetworkEndpoint
	URL
)

// Key describes one configuration key; the zero Importance is Medium.
type Key struct {
	Name       string
	Type       Type
	Required   bool
	Default    *string // nil: no default
	Importance Importance
	Doc        string
	Group      string
	Resource   Resource
}

// Default is a convenience for Key.Default.
func Default(v string) *string { return &v }

// ConfigError is a problem validate found with one key.
type ConfigError struct {
	Key     string
	Message string
}

// Metadata names the plugin (GET /connector-plugins shows it).
type Metadata struct {
	Name        string // the class name used in connector.class
	Aliases     []string
	Version     string
	Description string
}

// Payload is a record key or value: Text, Bytes or JSON.
type Payload interface{ isPayload() }

// Text is a UTF-8 string payload.
type Text string

// Bytes is a binary payload, passed through the converter unchanged.
type Bytes []byte

// JSON is a JSON document with an optional Kafka Connect schema (in
// JsonConverter's schema format). Document must already be JSON text.
type JSON struct {
	Document string
	Schema   string // "" for schemaless
}

func (Text) isPayload()  {}
func (Bytes) isPayload() {}
func (JSON) isPayload()  {}

// Header is a Kafka record header; a nil Value is a null header.
type Header struct {
	Key   string
	Value []byte
}

// SourceRecord is one record for Kafka. Partition and Offset are JSON
// objects (use encoding/json or the Object helper): the worker stores the
// offset of the last record Kafka acknowledged per partition, and
// ReadOffset hands it back after a restart.
type SourceRecord struct {
	Partition      string
	Offset         string
	Topic          string
	KafkaPartition *int32 // nil: the producer's partitioner chooses
	Key            Payload
	Value          Payload
	Headers        []Header
	Timestamp      *int64 // milliseconds since the epoch; nil: the producer stamps it
}

// SourceTask is what a task instance does. Start is called once with the
// task's configuration, Poll repeatedly, Stop once.
type SourceTask interface {
	Start(config Config) error
	Poll() ([]SourceRecord, error)
	Stop()
}

// Committer is an optional SourceTask method, called after the worker
// has committed the offsets of records already acknowledged by Kafka.
type Committer interface{ Commit() error }

// Source describes a source connector.
type Source struct {
	Metadata Metadata
	Keys     []Key
	// Validate checks a configuration beyond the required keys, which the
	// kit checks itself. Optional.
	Validate func(Config) []ConfigError
	// TaskConfigs splits the work; nil gives every task the connector's
	// configuration.
	TaskConfigs func(config Config, maxTasks int) ([]Config, error)
	// NewTask makes a task instance.
	NewTask func() SourceTask
}

var registered *Source

// RegisterSource makes s the component's connector. Call it from init.
func RegisterSource(s Source) { registered = &s }

// RetriableError asks the worker to retry the call, after Backoff if set.
type RetriableError struct {
	Message string
	Backoff time.Duration
}

func (e *RetriableError) Error() string { return e.Message }

// Retriable returns an error the worker retries.
func Retriable(message string, backoff time.Duration) error {
	return &RetriableError{Message: message, Backoff: backoff}
}

// Fatal returns an error that fails the task with message as its trace.
// Any error that is not a RetriableError is fatal.
func Fatal(message string) error { return errors.New(message) }

func asRetriable(err error, target **RetriableError) bool { return errors.As(err, target) }

func millis(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }

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
	if hostLogEnabled(level) {
		hostLog(level, fmt.Sprintf(format, args...))
	}
}

func Debugf(format string, args ...any) { Logf(LevelDebug, format, args...) }
func Infof(format string, args ...any)  { Logf(LevelInfo, format, args...) }
func Warnf(format string, args ...any)  { Logf(LevelWarn, format, args...) }
func Errorf(format string, args ...any) { Logf(LevelError, format, args...) }

// ConnectorName is the name the connector was created with.
func ConnectorName() string { return hostConnectorName() }

// TaskID is this task's number; false for the connector instance.
func TaskID() (uint32, bool) { return hostTaskID() }

// StopRequested reports whether the worker wants this instance to stop.
func StopRequested() bool { return hostStopRequested() }

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

// ReadOffset returns the stored offset (a JSON object) for a source
// partition (a JSON object), or "" when none is stored.
func ReadOffset(partition string) (string, error) {
	offsets, err := hostReadOffsets([]string{partition})
	if err != nil || len(offsets) == 0 {
		return "", err
	}
	return offsets[0], nil
}
