package transform

import (
	"errors"
	"testing"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/kit"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/recordtransform"
)

func TestRunKeepsDropsAndReplaces(t *testing.T) {
	in, err := kit.PackRecords([]wc.Record{
		{Topic: "t", Value: wc.Text("same")},
		{Topic: "t", Value: wc.Text("drop")},
		{Topic: "t", Value: wc.Text("change"), Headers: []wc.Header{{Key: "h", Value: []byte("v")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := Run(func(r wc.Record) (wc.Record, bool, error) {
		switch r.Value {
		case wc.Text("drop"):
			return r, false, nil
		case wc.Text("change"):
			r.Headers[0].Value[0] = 'w' // edits the copy Run handed over
			r.Value = wc.Text("changed")
		}
		return r, true, nil
	}, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []recordtransform.Outcome{
		{Tag: recordtransform.OutcomeKeep},
		{Tag: recordtransform.OutcomeDrop},
		{Tag: recordtransform.OutcomeReplace, Replace: 0},
	}
	if len(applied.Outcomes) != 3 || applied.Outcomes[0] != want[0] || applied.Outcomes[1] != want[1] || applied.Outcomes[2] != want[2] {
		t.Fatalf("outcomes %v, want %v", applied.Outcomes, want)
	}
	replaced, err := kit.UnpackRecords(applied.Replacements)
	if err != nil || len(replaced) != 1 || replaced[0].Value != wc.Text("changed") || string(replaced[0].Headers[0].Value) != "w" {
		t.Errorf("replacements %#v, %v", replaced, err)
	}
}

func TestRunNamesTheFailingRecordAndKeepsRetriable(t *testing.T) {
	in, _ := kit.PackRecords([]wc.Record{{Topic: "t"}, {Topic: "t"}})
	calls := 0
	_, err := Run(func(r wc.Record) (wc.Record, bool, error) {
		calls++
		if calls == 2 {
			return r, false, errors.New("bad")
		}
		return r, true, nil
	}, in)
	if err == nil || err.Error() != "record 1 of the batch: bad" {
		t.Errorf("got %v", err)
	}
	_, err = Run(func(r wc.Record) (wc.Record, bool, error) {
		return r, false, wc.Retriable(errors.New("busy"))
	}, in)
	if !wc.IsRetriable(err) {
		t.Errorf("got %v, want a retriable error", err)
	}
}
