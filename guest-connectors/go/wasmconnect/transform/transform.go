// Package transform makes a Go program a wasmconnect single-message
// transform: Register a Transform from an init function, and the module
// exports the transform world's functions (plugin, record-transform).
package transform

import (
	"bytes"
	"fmt"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/kit"
	"wasmconnect/go/wasmconnect/internal/wit/cabi"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/batches"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/recordtransform"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// Func rewrites one record: it returns the record to pass on (the same
// one, or a changed copy) and keep = false to drop it instead. A
// retriable error (wc.Retriable) has the worker retry the whole batch;
// any other error fails it (the connector's errors.tolerance decides
// what happens next).
type Func func(record wc.Record) (out wc.Record, keep bool, err error)

// Transform describes a transform.
type Transform struct {
	Metadata wc.Metadata
	Keys     []wc.Key
	// Validate checks a configuration beyond the required keys, which the
	// kit checks itself. Optional.
	Validate func(wc.Config) []wc.ConfigError
	// Configure builds the record function from the transform's settings
	// (its transforms.<alias>. prefix stripped).
	Configure func(config wc.Config) (Func, error)
}

// Register makes t the component's transform. Call it from init.
func Register(t Transform) {
	if t.Configure == nil {
		panic("wasmconnect: transform.Transform.Configure is nil")
	}
	p := &kit.Plugin{Metadata: t.Metadata, Kind: kit.Transform, Keys: t.Keys, Validate: t.Validate}
	kit.Serve(p)

	var apply Func
	recordtransform.Exports.Configure = func(config types.Config) cabi.Result[cabi.Unit, types.TaskError] {
		values := p.Effective(config)
		err := p.FirstProblem(values)
		if err == nil {
			err = kit.Guard(func() (err error) {
				apply, err = t.Configure(values)
				if err == nil && apply == nil {
					err = wc.Fatal("Configure returned no function")
				}
				return err
			})
		}
		return kit.Result(err)
	}
	recordtransform.Exports.Apply = func(batch batches.TransformBatch) cabi.Result[recordtransform.Applied, types.TaskError] {
		var applied recordtransform.Applied
		err := kit.Guard(func() (err error) {
			if apply == nil {
				return wc.Fatal("apply before configure")
			}
			applied, err = Run(apply, batch)
			return err
		})
		return kit.ResultOf(applied, err)
	}
}

// Run applies f to every record of batch: unchanged records are kept,
// dropped ones dropped, and changed ones packed as replacements.
func Run(f Func, batch batches.TransformBatch) (recordtransform.Applied, error) {
	records, err := kit.UnpackRecords(batch)
	if err != nil {
		return recordtransform.Applied{}, err
	}
	outcomes := make([]recordtransform.Outcome, len(records))
	var replacements []wc.Record
	for i, record := range records {
		// f may change what the record's slices point to; compare with a
		// copy of the input.
		out, keep, err := f(clone(record))
		if err != nil {
			if wc.IsRetriable(err) {
				return recordtransform.Applied{}, err
			}
			return recordtransform.Applied{}, fmt.Errorf("record %d of the batch: %w", i, err)
		}
		switch {
		case !keep:
			outcomes[i] = recordtransform.Outcome{Tag: recordtransform.OutcomeDrop}
		case same(record, out):
			outcomes[i] = recordtransform.Outcome{Tag: recordtransform.OutcomeKeep}
		default:
			outcomes[i] = recordtransform.Outcome{Tag: recordtransform.OutcomeReplace, Replace: uint32(len(replacements))}
			replacements = append(replacements, out)
		}
	}
	packed, err := kit.PackRecords(replacements)
	if err != nil {
		return recordtransform.Applied{}, err
	}
	return recordtransform.Applied{Outcomes: outcomes, Replacements: packed}, nil
}

func clone(r wc.Record) wc.Record {
	if r.Headers != nil {
		headers := make([]wc.Header, len(r.Headers))
		for i, h := range r.Headers {
			headers[i] = wc.Header{Key: h.Key, Value: bytes.Clone(h.Value)}
		}
		r.Headers = headers
	}
	if b, ok := r.Key.(wc.Bytes); ok {
		r.Key = wc.Bytes(bytes.Clone(b))
	}
	if b, ok := r.Value.(wc.Bytes); ok {
		r.Value = wc.Bytes(bytes.Clone(b))
	}
	return r
}

func same(a, b wc.Record) bool {
	if a.Topic != b.Topic || !sameInt(a.Partition, b.Partition) || !sameInt(a.Timestamp, b.Timestamp) ||
		!samePayload(a.Key, b.Key) || !samePayload(a.Value, b.Value) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		ha, hb := a.Headers[i], b.Headers[i]
		if ha.Key != hb.Key || (ha.Value == nil) != (hb.Value == nil) || !bytes.Equal(ha.Value, hb.Value) {
			return false
		}
	}
	return true
}

func sameInt[T int32 | int64](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func samePayload(a, b wc.Payload) bool {
	switch av := a.(type) {
	case nil:
		return b == nil
	case wc.Bytes:
		bv, ok := b.(wc.Bytes)
		return ok && bytes.Equal(av, bv)
	case wc.Text:
		bv, ok := b.(wc.Text)
		return ok && av == bv
	case wc.JSON:
		bv, ok := b.(wc.JSON)
		return ok && av == bv
	}
	return false
}
