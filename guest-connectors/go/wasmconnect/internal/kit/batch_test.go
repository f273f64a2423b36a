package kit

import (
	"reflect"
	"strings"
	"testing"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/batches"
)

func ptr[T any](v T) *T { return &v }

func TestRecordsSurvivePackingAndUnpacking(t *testing.T) {
	records := []wc.Record{
		{Topic: "orders", Partition: ptr[int32](3), Key: wc.Text("k1"), Value: wc.JSON{Document: `{"a":"Zoë ☃"}`},
			Headers: []wc.Header{{Key: "h", Value: []byte{0xff, 0}}, {Key: "null"}}, Timestamp: ptr[int64](1700000000123)},
		{Topic: "other", Value: wc.Bytes{1, 2, 3}},
		{Topic: "orders", Key: wc.JSON{Document: `1`, Schema: `{"type":"int32"}`}},
	}
	batch, err := PackRecords(records)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(batch.Topics, []string{"orders", "other"}) {
		t.Errorf("topics %v: each once, in order of appearance", batch.Topics)
	}
	back, err := UnpackRecords(batch)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, records) {
		t.Errorf("got %#v\nwant %#v", back, records)
	}
}

func TestPackingNamesTheRecordAtFault(t *testing.T) {
	text := wc.Text("fine")
	for _, c := range []struct {
		record wc.SourceRecord
		want   string
	}{
		{wc.SourceRecord{Partition: "{}", Offset: "{}", Topic: "t", Value: wc.Text("\xff")}, "record 1 of the batch: value is not UTF-8"},
		{wc.SourceRecord{Partition: "{}", Offset: "{}", Topic: "t", Value: &text}, "record 1 of the batch: its value is a *wasmconnect.Text"},
		{wc.SourceRecord{Partition: "{}", Offset: "{}", Topic: "\xfe"}, `record 1 of the batch: its topic "\xfe" is not UTF-8`},
		{wc.SourceRecord{Partition: "{}", Offset: "{}", Topic: "t", Headers: []wc.Header{{Key: "\xff"}}}, "record 1 of the batch: a header key is not UTF-8"},
	} {
		good := wc.SourceRecord{Partition: "{}", Offset: "{}", Topic: "t"}
		_, err := PackSource([]wc.SourceRecord{good, c.record})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("got %v, want %s…", err, c.want)
		}
	}
}

func TestUnpackingRefusesSpansOutsideTheData(t *testing.T) {
	batch := batches.SinkBatch{
		Data:   []byte("abc"),
		Topics: []string{"t"},
		Records: []batches.PackedSinkRecord{
			{Value: &batches.PackedPayload{Kind: batches.PayloadKindText, Bytes: batches.Span{Offset: 0, Len: 3}}},
			{Value: &batches.PackedPayload{Kind: batches.PayloadKindText, Bytes: batches.Span{Offset: 2, Len: 2}}},
		},
	}
	_, err := UnpackSink(batch)
	if err == nil || err.Error() != "the host sent a malformed batch: record 1: span 2+2 lies outside the 3 bytes of data" {
		t.Errorf("got %v", err)
	}
	batch.Records = batch.Records[:1]
	records, err := UnpackSink(batch)
	if err != nil || records[0].Value != wc.Text("abc") || records[0].Topic != "t" {
		t.Errorf("got %#v, %v", records, err)
	}
}

func TestEffectiveConfigFillsDefaults(t *testing.T) {
	p := &Plugin{Keys: []wc.Key{{Name: "a", Default: wc.Default("1")}, {Name: "b", Default: wc.Default("2")}, {Name: "c"}}}
	got := p.Effective(WITConfig(wc.Config{"a": "set", "x": "y"}))
	want := wc.Config{"a": "set", "b": "2", "x": "y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	p.Keys = append(p.Keys, wc.Key{Name: "must", Required: true})
	if err := p.FirstProblem(got); err == nil || err.Error() != `Missing required configuration "must" which has no default value.` {
		t.Errorf("got %v", err)
	}
}
