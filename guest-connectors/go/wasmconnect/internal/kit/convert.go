// Package kit is what the role packages (source, sink, transform) share:
// conversions between the generated WIT types and the kit's Go types,
// the plugin exports every world has, and packing and unpacking of
// record batches. Connector code never imports it.
package kit

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/wit/cabi"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// Config copies a WIT config into a wc.Config.
func Config(config types.Config) wc.Config {
	out := make(wc.Config, len(config))
	for _, entry := range config {
		out[entry.F0] = entry.F1
	}
	return out
}

// WITConfig is config as a WIT config, in key order (so task
// configurations compare equal from one call to the next).
func WITConfig(config wc.Config) types.Config {
	out := make(types.Config, 0, len(config))
	for _, key := range slices.Sorted(maps.Keys(config)) {
		out = append(out, cabi.Tuple2[string, string]{F0: key, F1: config[key]})
	}
	return out
}

// TaskError is err as the contract's task-error.
func TaskError(err error) types.TaskError {
	var retriable *wc.RetriableError
	if errors.As(err, &retriable) {
		e := types.RetriableError{Message: err.Error()}
		if ms := retriable.Backoff.Milliseconds(); ms > 0 {
			backoff := uint32(min(ms, int64(^uint32(0))))
			e.BackoffMs = &backoff
		}
		return types.TaskError{Tag: types.TaskErrorRetriable, Retriable: e}
	}
	return types.TaskError{Tag: types.TaskErrorFatal, Fatal: err.Error()}
}

// Result is err as result<_, task-error>.
func Result(err error) cabi.Result[cabi.Unit, types.TaskError] {
	if err != nil {
		return cabi.Result[cabi.Unit, types.TaskError]{IsErr: true, Err: TaskError(err)}
	}
	return cabi.Result[cabi.Unit, types.TaskError]{}
}

// ResultOf is (v, err) as result<T, task-error>.
func ResultOf[T any](v T, err error) cabi.Result[T, types.TaskError] {
	if err != nil {
		return cabi.Result[T, types.TaskError]{IsErr: true, Err: TaskError(err)}
	}
	return cabi.Result[T, types.TaskError]{Ok: v}
}

// Guard runs f, turning a panic into a fatal error that names it, so a
// bug fails the task with a readable trace instead of trapping the
// instance.
func Guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// WITPayload is p as a WIT payload.
func WITPayload(p wc.Payload) (*types.Payload, error) {
	switch v := p.(type) {
	case nil:
		return nil, nil
	case wc.Bytes:
		return &types.Payload{Tag: types.PayloadBinary, Binary: v}, nil
	case wc.Text:
		return &types.Payload{Tag: types.PayloadText, Text: string(v)}, nil
	case wc.JSON:
		payload := &types.Payload{Tag: types.PayloadJSON, JSON: types.JSONPayload{Document: v.Document}}
		if v.Schema != "" {
			payload.JSON.Schema = &v.Schema
		}
		return payload, nil
	default:
		return nil, fmt.Errorf("its payload is a %T; use wasmconnect.Text, Bytes or JSON values", p)
	}
}

// WITHeaders are headers as WIT headers.
func WITHeaders(headers []wc.Header) []types.Header {
	out := make([]types.Header, len(headers))
	for i, h := range headers {
		out[i] = types.Header{Key: h.Key}
		if h.Value != nil {
			value := h.Value
			out[i].Value = &value
		}
	}
	return out
}
