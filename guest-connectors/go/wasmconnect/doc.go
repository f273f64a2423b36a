// Package wasmconnect is the Go authoring kit for wasmconnect source
// connectors.
//
// A connector is a Go program (package main) that calls RegisterSource
// from an init function. The kit implements the component's exports and
// imports by hand (canonical ABI glue in abi_*.go), because the generated
// Go bindings need a module that cannot be fetched offline, and it builds
// with the standard Go toolchain for GOOS=wasip1:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o core.wasm ./examples/rate-source
//	wasmconnect-kit componentize core.wasm --world source --go -o rate-source.wasm
//
// `--go` adds the two allocators the component needs and Go cannot provide
// (see kit/src/go_adapter.rs): they bump through static arenas this
// package reserves (abi_arena.go).
//
// What the kit covers: the source world (plugin, connector, source-task
// exports; logging, context and offsets imports). Sinks, transforms and the
// files import are not in the Go kit yet; write those in another language
// of this repository.
package wasmconnect
