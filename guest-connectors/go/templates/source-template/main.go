// Template: the smallest Go source connector (go-source-template). Copy this directory, rename
// the plugin, and replace Poll with your logic.
//
// It publishes "hello <n>" to `topic` once a second and stores n as its
// source offset, so a restarted task continues the count.
package main

import (
	"encoding/json"
	"fmt"
	"time"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/source"
)

const partition = `{"template":"hello"}`

type greeter struct {
	topic string
	next  int64
}

func (g *greeter) Start(config wc.Config) error {
	g.topic = config.String("topic", "")
	stored, err := wc.ReadOffset(partition)
	if err != nil || stored == "" {
		return err
	}
	var offset struct{ N int64 }
	if err := json.Unmarshal([]byte(stored), &offset); err != nil {
		return wc.Fatal("stored offset is not usable: " + err.Error())
	}
	g.next = offset.N + 1
	return nil
}

func (g *greeter) Poll() ([]wc.SourceRecord, error) {
	if wc.SleepUnlessStopped(time.Second) {
		return nil, nil
	}
	n := g.next
	g.next++
	return []wc.SourceRecord{{
		Partition: partition,
		Offset:    fmt.Sprintf(`{"n":%d}`, n),
		Topic:     g.topic,
		Value:     wc.Text(fmt.Sprintf("hello %d", n)),
	}}, nil
}

func (g *greeter) Stop() {}

func init() {
	source.Register(source.Connector{
		Metadata: wc.Metadata{
			Name:        "io.wasmconnect.go.TemplateSourceConnector",
			Aliases:     []string{"GoTemplateSource"},
			Version:     "0.1.0",
			Description: "Template Go source: publishes a greeting a second",
		},
		Keys: []wc.Key{
			{Name: "topic", Type: wc.String, Required: true, Doc: "The topic to publish to"},
		},
		// One task: more would publish the same greetings twice.
		TaskConfigs: func(config wc.Config, maxTasks int) ([]wc.Config, error) {
			return []wc.Config{config}, nil
		},
		NewTask: func() source.Task { return &greeter{} },
	})
}

// main is not called in a component (it is a library the worker calls
// into), but package main needs one.
func main() {}
