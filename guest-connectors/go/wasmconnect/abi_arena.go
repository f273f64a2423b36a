package wasmconnect

// Memory the injected allocators hand out (see kit/src/go_adapter.rs).
//
// The host copies each export's arguments and each import's results into
// the argument arena; the kit copies what it keeps into Go values and
// resets the arena when the export returns. The WASI adapter allocates its
// state (about 20 KiB) and its own 64 KiB stack once from the adapter
// arena. Both are plain arrays, so the Go
// garbage collector neither scans nor moves them.

import "unsafe"

const (
	adapterArenaBytes = 256 << 10
	// Arguments are configurations and stored offsets: kilobytes. The
	// arena counts against the instance's memory limit from the start, so
	// it is kept small; a call whose arguments do not fit traps.
	argumentArenaBytes = 4 << 20
)

var (
	adapterArena  [adapterArenaBytes]byte
	argumentArena [argumentArenaBytes]byte
)

// arenaDescriptor is found by the componentize step through its marker;
// Go initialises it statically, so it sits in a data segment with the
// arenas' addresses already filled in.
type arenaDescriptor struct {
	marker        [32]byte
	adapter       *[adapterArenaBytes]byte
	adapterBytes  uint64
	arguments     *[argumentArenaBytes]byte
	argumentBytes uint64
	// Bytes of the argument arena in use; the injected cabi_realloc bumps
	// it, resetArguments clears it.
	argumentsUsed uint64
}

var arenas = arenaDescriptor{
	marker:        [32]byte{'w', 'a', 's', 'm', 'c', 'o', 'n', 'n', 'e', 'c', 't', '/', 'g', 'o', '-', 'a', 'b', 'i', '-', 'a', 'r', 'e', 'n', 'a', 's', '/', 'v', '1'},
	adapter:       &adapterArena,
	adapterBytes:  adapterArenaBytes,
	arguments:     &argumentArena,
	argumentBytes: argumentArenaBytes,
}

// resetArguments frees everything the host allocated for the current
// export; call it only once the arguments have been copied out.
func resetArguments() {
	// Reading through a pointer keeps the compiler from treating the
	// descriptor as unused or constant.
	used := (*uint64)(unsafe.Pointer(&arenas.argumentsUsed))
	*used = 0
}
