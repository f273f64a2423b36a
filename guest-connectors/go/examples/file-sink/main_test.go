package main

import (
	"testing"

	wc "wasmconnect/go/wasmconnect"
)

func TestLineRendersEveryPlaceholder(t *testing.T) {
	r := wc.SinkRecord{Topic: "t", Partition: 2, Offset: 41, Key: wc.Bytes{0xff}, Value: wc.JSON{Document: `{"a":1}`}}
	if got, want := line("{topic}-{partition}@{offset} {key}={value}", r), "t-2@41 /w==="+`{"a":1}`+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := line("{key}:{value}", wc.SinkRecord{}); got != "null:null\n" {
		t.Errorf("got %q", got)
	}
}

func TestLineKeepsARecordOnOneLine(t *testing.T) {
	r := wc.SinkRecord{Key: wc.Bytes("a\r\nb"), Value: wc.Text("one\ntwo\rthree")}
	if got, want := line("{key}|{value}", r), `a\r\nb|one\ntwo\rthree`+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r = wc.SinkRecord{Value: wc.JSON{Document: "{\n  \"a\": 1\n}"}}
	if got, want := line("{value}", r), `{\n  "a": 1\n}`+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
