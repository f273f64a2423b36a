package wasmconnect

// Reading and writing canonical-ABI values in linear memory.
//
// On wasm, a Go pointer is a linear-memory address, so the host's 32-bit
// addresses convert to pointers and back. Values the kit hands to the host
// (results, import arguments) are Go memory kept reachable in `retained`
// until the next export call, by which time the host has copied them.

import "unsafe"

// retained keeps the current call's results alive for the host.
var retained []any

func keep(v any) { retained = append(retained, v) }

func at(addr uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(addr)) }

func addrOf(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

func load8(addr uint32) uint8   { return *(*uint8)(at(addr)) }
func load32(addr uint32) uint32 { return *(*uint32)(at(addr)) }

// liftString copies a guest string the host wrote.
func liftString(ptr, n uint32) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(at(ptr)), n))
}

// liftStringAt copies the (ptr, len) string stored at addr.
func liftStringAt(addr uint32) string { return liftString(load32(addr), load32(addr+4)) }

// liftConfig copies a list<tuple<string, string>>.
func liftConfig(ptr, n uint32) Config {
	config := make(Config, n)
	for i := uint32(0); i < n; i++ {
		entry := ptr + i*16
		config[liftStringAt(entry)] = liftStringAt(entry + 8)
	}
	return config
}

// block is Go memory the kit lays a canonical-ABI value out in. It is
// made of uint64 words so that it is 8-byte aligned, as records holding
// 64-bit fields require.
type block struct{ base uint32 }

func newBlock(size uint32) block {
	words := make([]uint64, (size+7)/8+1)
	keep(words)
	return block{base: addrOf(unsafe.Pointer(&words[0]))}
}

func (b block) put8(off uint32, v uint8)   { *(*uint8)(at(b.base + off)) = v }
func (b block) put32(off uint32, v uint32) { *(*uint32)(at(b.base + off)) = v }
func (b block) put64(off uint32, v uint64) { *(*uint64)(at(b.base + off)) = v }

func (b block) putBool(off uint32, v bool) {
	if v {
		b.put8(off, 1)
	} else {
		b.put8(off, 0)
	}
}

// putString stores s as (ptr, len), keeping s alive.
func (b block) putString(off uint32, s string) {
	keep(s)
	if len(s) == 0 {
		b.put32(off, 0)
		b.put32(off+4, 0)
		return
	}
	b.put32(off, addrOf(unsafe.Pointer(unsafe.StringData(s))))
	b.put32(off+4, uint32(len(s)))
}

// putBytes stores a list<u8> as (ptr, len), keeping it alive.
func (b block) putBytes(off uint32, v []byte) {
	keep(v)
	if len(v) == 0 {
		b.put32(off, 0)
		b.put32(off+4, 0)
		return
	}
	b.put32(off, addrOf(unsafe.Pointer(unsafe.SliceData(v))))
	b.put32(off+4, uint32(len(v)))
}

// putOptionString stores option<string>: a flag byte, then the string at +4.
func (b block) putOptionString(off uint32, s *string) {
	if s == nil {
		b.put8(off, 0)
		return
	}
	b.put8(off, 1)
	b.putString(off+4, *s)
}

// putStrings stores a list<string>.
func (b block) putStrings(off uint32, items []string) {
	list := newBlock(uint32(len(items)) * 8)
	for i, s := range items {
		list.putString(uint32(i)*8, s)
	}
	b.put32(off, list.base)
	b.put32(off+4, uint32(len(items)))
}

// putTaskError stores a task-error variant (20 bytes) at off.
func (b block) putTaskError(off uint32, err error) {
	var retriable *RetriableError
	if asRetriable(err, &retriable) {
		b.put8(off, 0)
		b.putString(off+4, retriable.Message)
		if ms := retriable.Backoff.Milliseconds(); ms > 0 {
			b.put8(off+12, 1)
			b.put32(off+16, uint32(ms))
		} else {
			b.put8(off+12, 0)
		}
		return
	}
	b.put8(off, 1)
	b.putString(off+4, err.Error())
}

// putResult stores result<_, task-error> (24 bytes) at off; ok results
// leave their payload (at off+4) to the caller.
func (b block) putResult(off uint32, err error) {
	if err == nil {
		b.put8(off, 0)
		return
	}
	b.put8(off, 1)
	b.putTaskError(off+4, err)
}
