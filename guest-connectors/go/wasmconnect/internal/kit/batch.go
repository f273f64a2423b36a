package kit

// Batches of records as interface `batches` of the contract packs them:
// every variable-length part in one data buffer, each record a
// fixed-size entry of spans into it. Connector code sees ordinary
// records; these functions convert.

import (
	"fmt"
	"math"
	"unicode/utf8"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/batches"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// packer accumulates one batch's data, topics and headers.
type packer struct {
	data    []byte
	topics  []string
	topicIx map[string]uint32
	headers []batches.PackedHeader
	record  int // the record being packed, for error messages
}

func (p *packer) fail(format string, args ...any) error {
	return fmt.Errorf("record %d of the batch: %s", p.record, fmt.Sprintf(format, args...))
}

// span appends v to the data; text spans must be UTF-8.
func span[T ~string | ~[]byte](p *packer, v T, text bool, what string) (batches.Span, error) {
	if text && !utf8.Valid([]byte(v)) {
		return batches.Span{}, p.fail("%s is not UTF-8; send binary data as wasmconnect.Bytes", what)
	}
	if uint64(len(p.data))+uint64(len(v)) > math.MaxUint32 {
		return batches.Span{}, p.fail("the batch holds more than 4 GiB of data; return fewer records per call")
	}
	s := batches.Span{Offset: uint32(len(p.data)), Len: uint32(len(v))}
	p.data = append(p.data, v...)
	return s, nil
}

func (p *packer) topic(topic string) (uint32, error) {
	if ix, ok := p.topicIx[topic]; ok {
		return ix, nil
	}
	if !utf8.ValidString(topic) {
		return 0, p.fail("its topic %q is not UTF-8", topic)
	}
	if p.topicIx == nil {
		p.topicIx = map[string]uint32{}
	}
	ix := uint32(len(p.topics))
	p.topics = append(p.topics, topic)
	p.topicIx[topic] = ix
	return ix, nil
}

func (p *packer) payload(payload wc.Payload, what string) (*batches.PackedPayload, error) {
	var out batches.PackedPayload
	var err error
	switch v := payload.(type) {
	case nil:
		return nil, nil
	case wc.Bytes:
		out.Kind = batches.PayloadKindBinary
		out.Bytes, err = span(p, v, false, what)
	case wc.Text:
		out.Kind = batches.PayloadKindText
		out.Bytes, err = span(p, v, true, what)
	case wc.JSON:
		out.Kind = batches.PayloadKindJSON
		if out.Bytes, err = span(p, v.Document, true, what); err == nil && v.Schema != "" {
			var schema batches.Span
			schema, err = span(p, v.Schema, true, what+" schema")
			out.Schema = &schema
		}
	default:
		return nil, p.fail("its %s is a %T; use wasmconnect.Text, Bytes or JSON values", what, payload)
	}
	return &out, err
}

func (p *packer) headerRange(headers []wc.Header) (batches.HeaderRange, error) {
	r := batches.HeaderRange{Start: uint32(len(p.headers)), Count: uint32(len(headers))}
	for _, h := range headers {
		key, err := span(p, h.Key, true, "a header key")
		if err != nil {
			return r, err
		}
		packed := batches.PackedHeader{Key: key}
		if h.Value != nil {
			value, err := span(p, h.Value, false, "a header value")
			if err != nil {
				return r, err
			}
			packed.Value = &value
		}
		p.headers = append(p.headers, packed)
	}
	return r, nil
}

// PackSource packs what a source task's Poll returned.
func PackSource(records []wc.SourceRecord) (batches.SourceBatch, error) {
	p := &packer{}
	packed := make([]batches.PackedSourceRecord, len(records))
	for i, r := range records {
		p.record = i
		out := &packed[i]
		var err error
		if out.SourcePartition, err = span(p, r.Partition, true, "the source partition"); err != nil {
			return batches.SourceBatch{}, err
		}
		if out.SourceOffset, err = span(p, r.Offset, true, "the source offset"); err != nil {
			return batches.SourceBatch{}, err
		}
		if out.Topic, err = p.topic(r.Topic); err != nil {
			return batches.SourceBatch{}, err
		}
		if out.Key, err = p.payload(r.Key, "key"); err != nil {
			return batches.SourceBatch{}, err
		}
		if out.Value, err = p.payload(r.Value, "value"); err != nil {
			return batches.SourceBatch{}, err
		}
		if out.Headers, err = p.headerRange(r.Headers); err != nil {
			return batches.SourceBatch{}, err
		}
		out.Partition = r.KafkaPartition
		out.Timestamp = r.Timestamp
	}
	return batches.SourceBatch{Data: p.data, Topics: nonNil(p.topics), Headers: nonNil(p.headers), Records: packed}, nil
}

// PackRecords packs a transform's replacement records.
func PackRecords(records []wc.Record) (batches.TransformBatch, error) {
	p := &packer{}
	packed := make([]batches.PackedTransformRecord, len(records))
	for i, r := range records {
		p.record = i
		out := &packed[i]
		var err error
		if out.Topic, err = p.topic(r.Topic); err != nil {
			return batches.TransformBatch{}, err
		}
		if out.Key, err = p.payload(r.Key, "key"); err != nil {
			return batches.TransformBatch{}, err
		}
		if out.Value, err = p.payload(r.Value, "value"); err != nil {
			return batches.TransformBatch{}, err
		}
		if out.Headers, err = p.headerRange(r.Headers); err != nil {
			return batches.TransformBatch{}, err
		}
		out.Partition = r.Partition
		out.Timestamp = r.Timestamp
	}
	return batches.TransformBatch{Data: p.data, Topics: nonNil(p.topics), Headers: nonNil(p.headers), Records: packed}, nil
}

func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

// unpacker reads one batch the host sent.
type unpacker struct {
	data    []byte
	topics  []string
	headers []batches.PackedHeader
	record  int
}

func (u *unpacker) fail(format string, args ...any) error {
	return fmt.Errorf("the host sent a malformed batch: record %d: %s", u.record, fmt.Sprintf(format, args...))
}

func (u *unpacker) bytes(s batches.Span) ([]byte, error) {
	end := uint64(s.Offset) + uint64(s.Len)
	if end > uint64(len(u.data)) {
		return nil, u.fail("span %d+%d lies outside the %d bytes of data", s.Offset, s.Len, len(u.data))
	}
	return u.data[s.Offset:end:end], nil
}

func (u *unpacker) topic(ix uint32) (string, error) {
	if int(ix) >= len(u.topics) {
		return "", u.fail("topic %d of %d", ix, len(u.topics))
	}
	return u.topics[ix], nil
}

func (u *unpacker) payload(p *batches.PackedPayload) (wc.Payload, error) {
	if p == nil {
		return nil, nil
	}
	b, err := u.bytes(p.Bytes)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case batches.PayloadKindBinary:
		return wc.Bytes(b), nil
	case batches.PayloadKindText:
		return wc.Text(b), nil
	default:
		out := wc.JSON{Document: string(b)}
		if p.Schema != nil {
			schema, err := u.bytes(*p.Schema)
			if err != nil {
				return nil, err
			}
			out.Schema = string(schema)
		}
		return out, nil
	}
}

func (u *unpacker) headerList(r batches.HeaderRange) ([]wc.Header, error) {
	if uint64(r.Start)+uint64(r.Count) > uint64(len(u.headers)) {
		return nil, u.fail("headers %d+%d of %d", r.Start, r.Count, len(u.headers))
	}
	if r.Count == 0 {
		return nil, nil
	}
	out := make([]wc.Header, r.Count)
	for i, h := range u.headers[r.Start : r.Start+r.Count] {
		key, err := u.bytes(h.Key)
		if err != nil {
			return nil, err
		}
		out[i].Key = string(key)
		if h.Value != nil {
			value, err := u.bytes(*h.Value)
			if err != nil {
				return nil, err
			}
			out[i].Value = value
		}
	}
	return out, nil
}

// UnpackSink unpacks the records sink-task.put delivers.
func UnpackSink(batch batches.SinkBatch) ([]wc.SinkRecord, error) {
	u := &unpacker{data: batch.Data, topics: batch.Topics, headers: batch.Headers}
	out := make([]wc.SinkRecord, len(batch.Records))
	for i, r := range batch.Records {
		u.record = i
		rec := &out[i]
		var err error
		if rec.Topic, err = u.topic(r.Topic); err != nil {
			return nil, err
		}
		if rec.Key, err = u.payload(r.Key); err != nil {
			return nil, err
		}
		if rec.Value, err = u.payload(r.Value); err != nil {
			return nil, err
		}
		if rec.Headers, err = u.headerList(r.Headers); err != nil {
			return nil, err
		}
		rec.Partition, rec.Offset = r.Partition, r.Offset
		rec.Timestamp = r.Timestamp
		rec.TimestampType = wc.TimestampType(r.TimestampType)
	}
	return out, nil
}

// UnpackRecords unpacks the records a transform is applied to.
func UnpackRecords(batch batches.TransformBatch) ([]wc.Record, error) {
	u := &unpacker{data: batch.Data, topics: batch.Topics, headers: batch.Headers}
	out := make([]wc.Record, len(batch.Records))
	for i, r := range batch.Records {
		u.record = i
		rec := &out[i]
		var err error
		if rec.Topic, err = u.topic(r.Topic); err != nil {
			return nil, err
		}
		if rec.Key, err = u.payload(r.Key); err != nil {
			return nil, err
		}
		if rec.Value, err = u.payload(r.Value); err != nil {
			return nil, err
		}
		if rec.Headers, err = u.headerList(r.Headers); err != nil {
			return nil, err
		}
		rec.Partition = r.Partition
		rec.Timestamp = r.Timestamp
	}
	return out, nil
}

// WITSinkRecord is r as the contract's (unpacked) sink-record, for the
// errant-records import.
func WITSinkRecord(r wc.SinkRecord) (types.SinkRecord, error) {
	key, err := WITPayload(r.Key)
	if err != nil {
		return types.SinkRecord{}, err
	}
	value, err := WITPayload(r.Value)
	if err != nil {
		return types.SinkRecord{}, err
	}
	return types.SinkRecord{
		Topic:         r.Topic,
		Partition:     r.Partition,
		Offset:        r.Offset,
		Key:           key,
		Value:         value,
		Headers:       WITHeaders(r.Headers),
		Timestamp:     r.Timestamp,
		TimestampType: types.TimestampType(r.TimestampType),
	}, nil
}
