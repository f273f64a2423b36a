package wasmconnect

// The host functions a source may call, as the canonical ABI flattens
// them: strings and lists are (address, length) pairs, and results that
// do not fit one value are written to a return area the caller supplies.

import (
	"runtime"
	"unsafe"
)

//go:wasmimport wasmconnect:connector/logging@0.2.0 enabled
func importLogEnabled(level uint32) uint32

//go:wasmimport wasmconnect:connector/logging@0.2.0 log
func importLog(level uint32, ptr uint32, n uint32)

//go:wasmimport wasmconnect:connector/context@0.2.0 connector-name
func importConnectorName(ret uint32)

//go:wasmimport wasmconnect:connector/context@0.2.0 task-id
func importTaskID(ret uint32)

//go:wasmimport wasmconnect:connector/context@0.2.0 stop-requested
func importStopRequested() uint32

//go:wasmimport wasmconnect:connector/offsets@0.2.0 read
func importOffsetsRead(ptr uint32, n uint32, ret uint32)

// importReturn is the return area for imports: at most 24 bytes.
var importReturn [4]uint64

func importReturnAddr() uint32 { return addrOf(unsafe.Pointer(&importReturn[0])) }

func hostLogEnabled(level Level) bool { return importLogEnabled(uint32(level)) != 0 }

// hostLog logs message; the caller checked that level is enabled.
func hostLog(level Level, message string) {
	if len(message) == 0 {
		importLog(uint32(level), 0, 0)
		return
	}
	importLog(uint32(level), addrOf(unsafe.Pointer(unsafe.StringData(message))), uint32(len(message)))
	runtime.KeepAlive(message)
}

func hostConnectorName() string {
	ret := importReturnAddr()
	importConnectorName(ret)
	return liftStringAt(ret)
}

func hostTaskID() (uint32, bool) {
	ret := importReturnAddr()
	importTaskID(ret)
	if load8(ret) == 0 {
		return 0, false
	}
	return load32(ret + 4), true
}

func hostStopRequested() bool { return importStopRequested() != 0 }

// hostReadOffsets asks for the stored offsets of JSON-encoded partitions.
// An empty string in the answer means "no stored offset".
func hostReadOffsets(partitions []string) ([]string, error) {
	args := newBlock(uint32(len(partitions)) * 8)
	for i, p := range partitions {
		args.putString(uint32(i)*8, p)
	}
	ret := importReturnAddr()
	importOffsetsRead(args.base, uint32(len(partitions)), ret)
	if load8(ret) != 0 {
		return nil, liftTaskError(ret + 4)
	}
	ptr, n := load32(ret+4), load32(ret+8)
	offsets := make([]string, n)
	for i := uint32(0); i < n; i++ {
		entry := ptr + i*12
		if load8(entry) != 0 {
			offsets[i] = liftStringAt(entry + 4)
		}
	}
	return offsets, nil
}

// liftTaskError copies a task-error the host wrote.
func liftTaskError(addr uint32) error {
	if load8(addr) == 0 {
		err := &RetriableError{Message: liftStringAt(addr + 4)}
		if load8(addr+12) != 0 {
			err.Backoff = millis(load32(addr + 16))
		}
		return err
	}
	return Fatal(liftStringAt(addr + 4))
}
