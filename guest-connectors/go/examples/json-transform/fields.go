package main

// The field edits, apart from the plugin plumbing so that `go test`
// checks them on the host.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// edits is what to do to each JSON object, from the configuration.
type edits struct {
	rename map[string]string // old name -> new name
	drop   map[string]bool
	set    []field // in configuration order
}

// field is one member of a JSON object; value is compact JSON.
type field struct {
	name  string
	value json.RawMessage
}

// keyError is a configuration problem and the key it belongs to, so that
// validation can report it under that key.
type keyError struct {
	key string
	err error
}

func (e keyError) Error() string { return e.err.Error() }
func (e keyError) Unwrap() error { return e.err }

// parseEdits reads rename (a:b,c:d), drop (x,y) and set (name:value,…)
// lists; each problem is a keyError naming its key, and its message the
// entry.
func parseEdits(rename, drop, set []string) (edits, error) {
	e := edits{rename: map[string]string{}, drop: map[string]bool{}}
	for _, entry := range rename {
		from, to, ok := strings.Cut(entry, ":")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" || to == "" {
			return e, keyError{keyRename, fmt.Errorf("rename entry %q is not old:new", entry)}
		}
		if _, twice := e.rename[from]; twice {
			return e, keyError{keyRename, fmt.Errorf("rename names field %q twice", from)}
		}
		e.rename[from] = to
	}
	for _, name := range drop {
		e.drop[name] = true
	}
	for _, entry := range set {
		name, text, ok := strings.Cut(entry, ":")
		name, text = strings.TrimSpace(name), strings.TrimSpace(text)
		if !ok || name == "" {
			return e, keyError{keySet, fmt.Errorf("set entry %q is not name:value", entry)}
		}
		e.set = append(e.set, field{name: name, value: literal(text)})
	}
	if len(e.rename) == 0 && len(e.drop) == 0 && len(e.set) == 0 {
		// Under rename, the first of the three, for want of a better home.
		return e, keyError{keyRename, errors.New("nothing to do: set at least one of rename, drop and set")}
	}
	return e, nil
}

// literal is text as JSON: itself when it is a JSON value (2, true,
// "quoted", {"a":1}), a JSON string otherwise (go becomes "go").
func literal(text string) json.RawMessage {
	var compact bytes.Buffer
	if json.Valid([]byte(text)) && json.Compact(&compact, []byte(text)) == nil {
		return compact.Bytes()
	}
	quoted, _ := json.Marshal(text) // a string always marshals
	return quoted
}

// errNotObject is why a document is left alone (or fails the record).
var errNotObject = errors.New("not a JSON object")

// apply edits a JSON object document: renames first, then drops (by the
// new names too), then sets. Fields keep their order; a set field that
// does not exist yet goes last. When a rename gives two fields one name,
// the one later in the document wins, in the earlier one's place.
func (e edits) apply(document []byte) ([]byte, error) {
	fields, err := members(document)
	if err != nil {
		return nil, err
	}
	var out []field
	index := map[string]int{}
	put := func(f field) {
		if i, seen := index[f.name]; seen {
			out[i] = f
			return
		}
		index[f.name] = len(out)
		out = append(out, f)
	}
	for _, f := range fields {
		if to, ok := e.rename[f.name]; ok {
			f.name = to
		}
		put(f)
	}
	kept := out[:0]
	for _, f := range out {
		if !e.drop[f.name] {
			kept = append(kept, f)
		}
	}
	out = kept
	clear(index)
	for i, f := range out {
		index[f.name] = i
	}
	for _, f := range e.set {
		put(f)
	}
	return encode(out), nil
}

// members decodes a JSON object into its fields in document order, each
// value compacted. A duplicate name keeps its last value, as
// encoding/json does.
func members(document []byte) ([]field, error) {
	decoder := json.NewDecoder(bytes.NewReader(document))
	decoder.UseNumber()
	start, err := decoder.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if delim, ok := start.(json.Delim); !ok || delim != '{' {
		return nil, errNotObject
	}
	var fields []field
	seen := map[string]int{}
	for decoder.More() {
		token, err := decoder.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		name, _ := token.(string) // object keys are always strings
		var value json.RawMessage
		if err := decoder.Decode(&value); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, value); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		f := field{name: name, value: compact.Bytes()}
		if i, dup := seen[name]; dup {
			fields[i] = f
			continue
		}
		seen[name] = len(fields)
		fields = append(fields, f)
	}
	if _, err := decoder.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, errors.New("not JSON: text after the object")
	}
	return fields, nil
}

func encode(fields []field) []byte {
	var out bytes.Buffer
	out.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			out.WriteByte(',')
		}
		name, _ := json.Marshal(f.name) // a string always marshals
		out.Write(name)
		out.WriteByte(':')
		out.Write(f.value)
	}
	out.WriteByte('}')
	return out.Bytes()
}
