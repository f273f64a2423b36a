package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	wc "wasmconnect/go/wasmconnect"
)

func mustEdits(t *testing.T, rename, drop, set []string) edits {
	t.Helper()
	e, err := parseEdits(rename, drop, set)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestApplyRenamesDropsAndSetsInOrder(t *testing.T) {
	e := mustEdits(t, []string{"seq:sequence", "amount:price"}, []string{"ts"}, []string{"source:go", "n:2", `q:"x"`})
	got, err := e.apply([]byte(`{"task":0, "seq":7,"user":"user-7","amount":12.5,"ts":1700000000000,"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"task":0,"sequence":7,"user":"user-7","price":12.5,"n":2,"source":"go","q":"x"}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestRenameOntoAnExistingFieldReplacesIt(t *testing.T) {
	e := mustEdits(t, []string{"a:b"}, nil, nil)
	got, err := e.apply([]byte(`{"a":1,"b":2,"c":{"d":[1, 2]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"b":2,"c":{"d":[1,2]}}`; string(got) != want {
		// "a" became "b" first, then the document's own "b" replaced it.
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestDropAppliesToRenamedNames(t *testing.T) {
	e := mustEdits(t, []string{"a:b"}, []string{"b"}, nil)
	got, err := e.apply([]byte(`{"a":1,"z":"é\u00e9"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"z":"é\u00e9"}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestNonObjectsAreRefused(t *testing.T) {
	e := mustEdits(t, nil, []string{"x"}, nil)
	for _, doc := range []string{`[1,2]`, `"text"`, `42`, `null`} {
		if _, err := e.apply([]byte(doc)); !errors.Is(err, errNotObject) {
			t.Errorf("%s: got %v, want errNotObject", doc, err)
		}
	}
	for _, doc := range []string{`{"a":`, `not json`, `{"a":1} trailing`, ``} {
		if _, err := e.apply([]byte(doc)); err == nil || errors.Is(err, errNotObject) {
			t.Errorf("%q: got %v, want a not-JSON error", doc, err)
		}
	}
}

func TestParseEditsNamesBadEntries(t *testing.T) {
	for _, c := range []struct {
		rename, drop, set []string
		want              string
	}{
		{rename: []string{"a"}, want: `rename entry "a" is not old:new`},
		{rename: []string{"a:"}, want: `rename entry "a:" is not old:new`},
		{rename: []string{"a:b", "a:c"}, want: `rename names field "a" twice`},
		{set: []string{":1"}, want: `set entry ":1" is not name:value`},
		{want: "nothing to do: set at least one of rename, drop and set"},
	} {
		_, err := parseEdits(c.rename, c.drop, c.set)
		if err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %s", err, c.want)
		}
	}
}

func TestConfigurePassesNonObjectsOrFailsThem(t *testing.T) {
	keep, err := configure(wc.Config{"drop": "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []wc.Payload{wc.Text("plain"), wc.JSON{Document: `[1]`}, wc.JSON{Document: `{"x":1}`, Schema: `{"type":"struct"}`}, nil} {
		out, kept, err := keep(wc.Record{Topic: "t", Value: p})
		if err != nil || !kept || !reflect.DeepEqual(out.Value, p) {
			t.Errorf("%#v: got %#v, %v, %v", p, out.Value, kept, err)
		}
	}
	fail, err := configure(wc.Config{"drop": "x", "on.invalid": "fail"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = fail(wc.Record{Topic: "t", Value: wc.Text("plain")})
	if err == nil || !strings.Contains(err.Error(), "the value of a record of t is not editable: not JSON") {
		t.Errorf("got %v", err)
	}
	edit, err := configure(wc.Config{"rename": "a:b", "apply.to": "key"})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := edit(wc.Record{Key: wc.Bytes(`{"a":1}`), Value: wc.Text(`{"a":1}`)})
	if err != nil || string(out.Key.(wc.Bytes)) != `{"b":1}` || out.Value != wc.Text(`{"a":1}`) {
		t.Errorf("got %#v, %v", out, err)
	}
	if _, err := configure(wc.Config{"drop": "x", "on.invalid": "maybe"}); err == nil || err.Error() != `on.invalid must be keep or fail, not "maybe"` {
		t.Errorf("got %v", err)
	}
}

func TestValidateReportsEachProblemUnderItsKey(t *testing.T) {
	got := validate(wc.Config{"set": ":1", "on.invalid": "maybe", "apply.to": "header"})
	want := []wc.ConfigError{
		{Key: "set", Message: `set entry ":1" is not name:value`},
		{Key: "on.invalid", Message: `on.invalid must be keep or fail, not "maybe"`},
		{Key: "apply.to", Message: `apply.to must be value or key, not "header"`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if got := validate(wc.Config{"rename": "a"}); len(got) != 1 || got[0].Key != "rename" {
		t.Errorf("got %#v", got)
	}
	if got := validate(wc.Config{"drop": "x"}); got != nil {
		t.Errorf("got %#v", got)
	}
}
