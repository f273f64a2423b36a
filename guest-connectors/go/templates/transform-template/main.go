// Template: the smallest Go transform (go-transform-template). Copy this
// directory, rename the plugin, and replace the record function.
//
// It prefixes every record's topic with `prefix`, like a minimal
// RegexRouter: "orders" becomes "copy.orders" with prefix=copy.
package main

import (
	"errors"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/transform"
)

// configure builds the record function once from the settings; the
// worker then applies it to every batch.
func configure(config wc.Config) (transform.Func, error) {
	prefix := config.String("prefix", "")
	if prefix == "" {
		return nil, errors.New("prefix must not be blank")
	}
	return func(r wc.Record) (wc.Record, bool, error) {
		r.Topic = prefix + r.Topic
		return r, true, nil
	}, nil
}

func init() {
	transform.Register(transform.Transform{
		Metadata: wc.Metadata{
			Name:        "io.wasmconnect.go.TemplateTransform",
			Aliases:     []string{"GoTemplateTransform"},
			Version:     "0.1.0",
			Description: "Template Go transform: prefixes every record's topic",
		},
		Keys: []wc.Key{
			{Name: "prefix", Type: wc.String, Default: wc.Default("copy."), Doc: "What to put before the topic"},
		},
		Configure: configure,
	})
}

// main is not called in a component (it is a library the worker calls
// into), but package main needs one.
func main() {}
