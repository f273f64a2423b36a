module wasmconnect/go

go 1.24
