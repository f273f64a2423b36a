// JsonFieldTransform (go-json-transform): renames, drops and sets fields
// of JSON object values (or keys), Kafka Connect's ReplaceField and
// InsertField in one.
//
//	"transforms": "fields",
//	"transforms.fields.type": "JsonFieldTransform",
//	"transforms.fields.rename": "seq:sequence,amount:price",
//	"transforms.fields.drop": "ts",
//	"transforms.fields.set": "source:go"
//
// It reads JSON from every payload form: a json payload (JsonConverter,
// schemaless), or text or bytes holding a JSON document
// (StringConverter, ByteArrayConverter), and writes the result back in
// the same form. A value that is not a JSON object (null records pass
// untouched) is kept as it is, or fails the record with on.invalid=fail.
// A json payload with a Connect schema counts as not applicable too: its
// schema would no longer describe the edited document.
package main

import (
	"errors"
	"fmt"
	"strings"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/transform"
)

const (
	keyRename    = "rename"
	keyDrop      = "drop"
	keySet       = "set"
	keyOnInvalid = "on.invalid"
	keyApplyTo   = "apply.to"
)

// settings is the transform's configuration, checked.
type settings struct {
	edits edits
	fail  bool // on.invalid=fail
	key   bool // apply.to=key
}

// parseSettings reads the configuration; every problem found comes back,
// each under the key it concerns.
func parseSettings(config wc.Config) (settings, []wc.ConfigError) {
	var s settings
	var problems []wc.ConfigError
	var err error
	if s.edits, err = parseEdits(config.List(keyRename), config.List(keyDrop), config.List(keySet)); err != nil {
		key := keyRename
		var ke keyError
		if errors.As(err, &ke) {
			key = ke.key
		}
		problems = append(problems, wc.ConfigError{Key: key, Message: err.Error()})
	}
	switch v := config.String(keyOnInvalid, "keep"); v {
	case "keep":
	case "fail":
		s.fail = true
	default:
		problems = append(problems, wc.ConfigError{Key: keyOnInvalid, Message: fmt.Sprintf("%s must be keep or fail, not %q", keyOnInvalid, v)})
	}
	switch v := config.String(keyApplyTo, "value"); v {
	case "value":
	case "key":
		s.key = true
	default:
		problems = append(problems, wc.ConfigError{Key: keyApplyTo, Message: fmt.Sprintf("%s must be value or key, not %q", keyApplyTo, v)})
	}
	return s, problems
}

// edit returns p with its JSON object edited, or an error saying why p
// does not hold one.
func (s settings) edit(p wc.Payload) (wc.Payload, error) {
	switch v := p.(type) {
	case wc.JSON:
		if v.Schema != "" {
			return nil, errors.New("it has a Connect schema, which the edit would invalidate")
		}
		document, err := s.edits.apply([]byte(v.Document))
		return wc.JSON{Document: string(document)}, err
	case wc.Text:
		document, err := s.edits.apply([]byte(v))
		return wc.Text(document), err
	case wc.Bytes:
		document, err := s.edits.apply(v)
		return wc.Bytes(document), err
	}
	return nil, fmt.Errorf("unexpected payload %T", p)
}

func configure(config wc.Config) (transform.Func, error) {
	s, problems := parseSettings(config)
	if len(problems) > 0 {
		messages := make([]string, len(problems))
		for i, p := range problems {
			messages[i] = p.Message
		}
		return nil, errors.New(strings.Join(messages, "; "))
	}
	return func(r wc.Record) (wc.Record, bool, error) {
		target := &r.Value
		what := "value"
		if s.key {
			target, what = &r.Key, "key"
		}
		if *target == nil {
			return r, true, nil
		}
		edited, err := s.edit(*target)
		if err != nil {
			if s.fail {
				return r, false, fmt.Errorf("the %s of a record of %s is not editable: %w", what, r.Topic, err)
			}
			return r, true, nil
		}
		*target = edited
		return r, true, nil
	}, nil
}

func validate(config wc.Config) []wc.ConfigError {
	_, problems := parseSettings(config)
	return problems
}

func init() {
	transform.Register(transform.Transform{
		Metadata: wc.Metadata{
			Name:        "io.wasmconnect.go.JsonFieldTransform",
			Aliases:     []string{"JsonFieldTransform", "GoJsonFieldTransform"},
			Version:     "0.1.0",
			Description: "Renames, drops and sets fields of JSON object values or keys",
		},
		Keys: []wc.Key{
			{Name: keyRename, Type: wc.List, Default: wc.Default(""), Importance: wc.High,
				Doc: "Fields to rename, old:new, comma-separated (seq:sequence,amount:price)"},
			{Name: keyDrop, Type: wc.List, Default: wc.Default(""), Importance: wc.High,
				Doc: "Fields to remove (after renaming), comma-separated"},
			{Name: keySet, Type: wc.List, Default: wc.Default(""), Importance: wc.High,
				Doc: "Fields to set, name:value, comma-separated; a value that is JSON (2, true, \"x\") is used as such, anything else as a string"},
			{Name: keyOnInvalid, Type: wc.String, Default: wc.Default("keep"), Importance: wc.Medium,
				Doc: "What to do with a payload that is not a schemaless JSON object: keep (pass it on untouched) or fail"},
			{Name: keyApplyTo, Type: wc.String, Default: wc.Default("value"), Importance: wc.Low,
				Doc: "Which part of the record to edit: value or key"},
		},
		Validate:  validate,
		Configure: configure,
	})
}

// main is not called in a component, but package main needs one.
func main() {}
