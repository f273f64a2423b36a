// Package wasmconnect is the Go authoring kit for wasmconnect connectors:
// the types connector code works with (configuration, records, payloads,
// errors) and the host's services (logging, context, stored source
// offsets, granted files).
//
// A connector is a Go program (package main) that registers itself from
// an init function with the package of its role:
//
//	source.Register(source.Connector{…})       // wasmconnect/go/wasmconnect/source
//	sink.Register(sink.Connector{…})           // wasmconnect/go/wasmconnect/sink
//	transform.Register(transform.Transform{…}) // wasmconnect/go/wasmconnect/transform
//
// Importing a role package is what makes the module export that role's
// functions, so a module imports exactly one. Sinks that talk to a
// database use package wasmconnect/go/wasmconnect/database as well.
//
// Everything that crosses the component boundary goes through the
// packages below internal/wit, which `wasmconnect-kit bindings go`
// generates from wit/connector.wit; nothing in this kit lays out ABI
// values by hand. The kit builds with the standard Go toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o core.wasm .
//	wasmconnect-kit componentize core.wasm --world sink --go -o my-sink.wasm
//
// Outside GOOS=wasip1 the package compiles too (host calls panic), so
// `go test` runs the pure parts of a connector on the development machine.
package wasmconnect
