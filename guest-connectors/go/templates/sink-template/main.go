// Template: the smallest Go sink connector (go-sink-template). Copy this
// directory, rename the plugin, and replace Put with your logic.
//
// It logs every record it receives at INFO and commits the offsets of
// everything logged.
package main

import (
	"fmt"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/sink"
)

type logger struct {
	logged int
}

func (l *logger) Start(config wc.Config) error { return nil }

// Put receives the records of one batch. Returning wc.Retriable(err)
// has the worker deliver the same records again after a backoff; any
// other error fails the task.
func (l *logger) Put(records []wc.SinkRecord) error {
	for _, r := range records {
		wc.Infof("%s-%d@%d: %s", r.Topic, r.Partition, r.Offset, describe(r.Value))
		l.logged++
	}
	return nil
}

func (l *logger) Stop() { wc.Infof("logged %d records", l.logged) }

// describe renders a payload for the log.
func describe(p wc.Payload) string {
	switch v := p.(type) {
	case nil:
		return "null"
	case wc.Text:
		return string(v)
	case wc.JSON:
		return v.Document
	case wc.Bytes:
		return fmt.Sprintf("<%d bytes>", len(v))
	}
	return "?"
}

func init() {
	sink.Register(sink.Connector{
		Metadata: wc.Metadata{
			Name:        "io.wasmconnect.go.TemplateSinkConnector",
			Aliases:     []string{"GoTemplateSink"},
			Version:     "0.1.0",
			Description: "Template Go sink: logs every record",
		},
		NewTask: func() sink.Task { return &logger{} },
	})
}

// main is not called in a component (it is a library the worker calls
// into), but package main needs one.
func main() {}
