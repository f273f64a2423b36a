package wasmconnect

// Files the configuration names through keys marked ReadFile or
// WriteFile: the worker grants exactly those paths, in that mode, through
// the contract's files import (WASI cannot see them).

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/files"
)

// File is a file opened through the worker. It is an io.Writer (appends,
// for files from AppendFile) and an io.ReaderAt (files from OpenFile).
type File struct {
	path   string
	handle files.File
	closed bool
}

// OpenFile opens path, exactly as a ReadFile key's value names it, for
// reading.
func OpenFile(path string) (*File, error) { return open(path, files.OpenModeRead) }

// AppendFile opens path, exactly as a WriteFile key's value names it,
// creating it if needed; writes append to it.
func AppendFile(path string) (*File, error) { return open(path, files.OpenModeAppend) }

func open(path string, mode files.OpenMode) (*File, error) {
	result := files.Open(path, mode)
	if result.IsErr {
		return nil, fileError("open", path, result.Err)
	}
	return &File{path: path, handle: result.Ok}, nil
}

// FileError is a failed file operation. It matches fs.ErrNotExist and
// fs.ErrPermission (not granted) with errors.Is.
type FileError struct {
	Op, Path string
	Kind     error // fs.ErrNotExist, fs.ErrPermission or nil
	Message  string
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Op, e.Path, e.Message)
}

func (e *FileError) Unwrap() error { return e.Kind }

func fileError(op, path string, e files.FileError) error {
	switch e.Tag {
	case files.FileErrorNotGranted:
		return &FileError{Op: op, Path: path, Kind: fs.ErrPermission,
			Message: "not granted (name it in a key marked ReadFile or WriteFile): " + e.NotGranted}
	case files.FileErrorNotFound:
		return &FileError{Op: op, Path: path, Kind: fs.ErrNotExist, Message: e.NotFound}
	default:
		return &FileError{Op: op, Path: path, Message: e.Io}
	}
}

var errClosed = errors.New("file already closed")

// Write appends p to the file.
func (f *File) Write(p []byte) (int, error) {
	if f.closed {
		return 0, &FileError{Op: "write", Path: f.path, Kind: fs.ErrClosed, Message: errClosed.Error()}
	}
	if result := f.handle.Append(p); result.IsErr {
		return 0, fileError("write", f.path, result.Err)
	}
	return len(p), nil
}

// ReadAt reads len(p) bytes from offset off; io.EOF when the file ends
// first.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &FileError{Op: "read", Path: f.path, Kind: fs.ErrClosed, Message: errClosed.Error()}
	}
	if off < 0 {
		return 0, &FileError{Op: "read", Path: f.path, Message: "negative offset"}
	}
	n := 0
	for n < len(p) {
		want := min(len(p)-n, 1<<20)
		result := f.handle.Read(uint64(off)+uint64(n), uint32(want))
		if result.IsErr {
			return n, fileError("read", f.path, result.Err)
		}
		if len(result.Ok) == 0 {
			return n, io.EOF
		}
		n += copy(p[n:], result.Ok)
	}
	return n, nil
}

// Sync flushes appended bytes to stable storage.
func (f *File) Sync() error {
	if result := f.handle.Sync(); result.IsErr {
		return fileError("sync", f.path, result.Err)
	}
	return nil
}

// Size is the file's current size in bytes.
func (f *File) Size() (int64, error) {
	result := f.handle.Size()
	if result.IsErr {
		return 0, fileError("size", f.path, result.Err)
	}
	return int64(result.Ok), nil
}

// Close releases the file; later calls fail.
func (f *File) Close() error {
	if !f.closed {
		f.closed = true
		f.handle.Drop()
	}
	return nil
}
