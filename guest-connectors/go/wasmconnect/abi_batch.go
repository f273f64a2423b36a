package wasmconnect

// What poll returns, packed as wit/connector.wit's interface `batches`
// prescribes: every partition, offset, key, value and header of the batch
// in one data buffer, each record a fixed-size entry of spans into it. The
// host then lifts a batch in a handful of allocations whatever its size.
// Authors still return []SourceRecord; packSource does the rest.

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// Canonical-ABI layout of the `batches` types (byte offsets and sizes).
// A field sits at the end of the previous one rounded up to the field's
// own alignment; a record is as aligned as its most aligned field and its
// size is rounded up to that. An option or enum of fewer than 256 cases
// has a u8 discriminant at 0, and an option's value follows at the
// value's alignment. Change these only with the WIT.
const (
	// span {offset: u32, len: u32} (and header-range {start, count}):
	// offset at 0, len at 4; size 8, align 4.
	// option<span>: flag at 0, span at align4(1) = 4; size 4 + 8 = 12.
	optionSpanValue = 4

	// packed-payload {kind: payload-kind, bytes: span, schema: option<span>},
	// align 4: kind (3 cases: u8) at 0, bytes at align4(1) = 4, schema at
	// 4 + 8 = 12; size 12 + 12 = 24.
	payloadKind   = 0
	payloadBytes  = 4
	payloadSchema = 12
	// option<packed-payload>: flag at 0, payload at 4; size 4 + 24 = 28.
	optionPayloadValue = 4

	// payload-kind's cases, in WIT order.
	kindBinary = 0
	kindText   = 1
	kindJSON   = 2

	// packed-header {key: span, value: option<span>}, align 4: key at 0,
	// value at 0 + 8 = 8; size 8 + 12 = 20.
	headerKey   = 0
	headerValue = 8
	headerSize  = 20

	// packed-source-record, align 8 (from its option<s64> and option<u64>).
	sourcePartition = 0  // span
	sourceOffset    = 8  // span: 0 + 8
	sourceTopic     = 16 // u32: 8 + 8
	// option<s32>: flag at +0, s32 at align4(1) = +4, size 8, align 4:
	// 16 + 4 = 20.
	sourceKafkaPartition = 20
	option32Value        = 4
	sourceKey            = 28 // option<packed-payload> (size 28, align 4): 20 + 8
	sourceValue          = 56 // option<packed-payload>: 28 + 28
	sourceHeaders        = 84 // header-range: 56 + 28
	// option<s64>: flag at +0, s64 at align8(1) = +8, size 16, align 8:
	// 84 + 8 = 92, rounded up to 96.
	sourceTimestamp = 96
	sourceAckToken  = 112 // option<u64>, laid out as option<s64>: 96 + 16
	// 112 + 16 = 128, already a multiple of 8.
	sourceRecordSize = 128
	// Both option<s64> and option<u64> keep their value at +8.
	option64Value = 8

	// source-batch {data, topics, headers, records}: four lists, each a
	// (pointer, length) pair of u32s; size 32, align 4.
	batchData    = 0
	batchTopics  = 8
	batchHeaders = 16
	batchRecords = 24

	// result<source-batch, task-error>: flag at 0, then either payload at
	// align4(1) = 4 (both align 4); size 4 + max(32, 20) = 36.
	pollResultBatch = 4
	pollResultSize  = 36
)

// maxBatchData is the most data a batch can address: spans are u32s.
const maxBatchData = math.MaxUint32

// sourceBatch is a packed batch, ready to be lowered.
type sourceBatch struct {
	data    []byte
	topics  []string
	headers block
	nHeader uint32
	records block
	nRecord uint32
}

// lower stores the source-batch at off in b.
func (s *sourceBatch) lower(b block, off uint32) {
	b.putBytes(off+batchData, s.data)
	b.putStrings(off+batchTopics, s.topics)
	b.put32(off+batchHeaders, s.headers.base)
	b.put32(off+batchHeaders+4, s.nHeader)
	b.put32(off+batchRecords, s.records.base)
	b.put32(off+batchRecords+4, s.nRecord)
}

// packSource packs what Poll returned. It measures the records first, so
// that the data buffer and the header table are each allocated once, and
// refuses what the host could not lift, naming the record, rather than
// leave the host to trap on it (text inside data the host checks and
// names itself). Blocks start zeroed, so an absent option is already none.
func packSource(records []SourceRecord) (*sourceBatch, error) {
	dataBytes, headers := 0, 0
	for i := range records {
		r := &records[i]
		key, err := payloadSize(r.Key)
		if err != nil {
			return nil, badRecord(i, "its key %v", err)
		}
		value, err := payloadSize(r.Value)
		if err != nil {
			return nil, badRecord(i, "its value %v", err)
		}
		dataBytes += len(r.Partition) + len(r.Offset) + key + value
		for _, h := range r.Headers {
			dataBytes += len(h.Key) + len(h.Value)
		}
		headers += len(r.Headers)
		if dataBytes > maxBatchData {
			return nil, badRecord(i, "the batch reaches more than %d bytes of data, more than "+
				"spans can address; return fewer records per Poll", uint64(maxBatchData))
		}
	}

	p := packer{data: make([]byte, 0, dataBytes)}
	s := &sourceBatch{
		headers: newBlock(uint32(headers) * headerSize),
		records: newBlock(uint32(len(records)) * sourceRecordSize),
		nRecord: uint32(len(records)),
	}
	for i := range records {
		r := &records[i]
		e := uint32(i) * sourceRecordSize
		topic, err := p.topic(r.Topic)
		if err != nil {
			return nil, badRecord(i, "%v", err)
		}
		putSpan(&p, s.records, e+sourcePartition, r.Partition)
		putSpan(&p, s.records, e+sourceOffset, r.Offset)
		s.records.put32(e+sourceTopic, topic)
		if r.KafkaPartition != nil {
			s.records.put8(e+sourceKafkaPartition, 1)
			s.records.put32(e+sourceKafkaPartition+option32Value, uint32(*r.KafkaPartition))
		}
		p.payload(s.records, e+sourceKey, r.Key)
		p.payload(s.records, e+sourceValue, r.Value)
		s.records.put32(e+sourceHeaders, s.nHeader)
		s.records.put32(e+sourceHeaders+4, uint32(len(r.Headers)))
		for _, h := range r.Headers {
			o := s.nHeader * headerSize
			putSpan(&p, s.headers, o+headerKey, h.Key)
			if h.Value != nil {
				s.headers.put8(o+headerValue, 1)
				putSpan(&p, s.headers, o+headerValue+optionSpanValue, h.Value)
			}
			s.nHeader++
		}
		if r.Timestamp != nil {
			s.records.put8(e+sourceTimestamp, 1)
			s.records.put64(e+sourceTimestamp+option64Value, uint64(*r.Timestamp))
		}
		// ack-token stays none: the kit asks for no per-record
		// acknowledgements.
	}
	s.data, s.topics = p.data, p.topics
	return s, nil
}

// badRecord is a fatal error about record i of Poll's answer.
func badRecord(i int, format string, args ...any) error {
	return Fatal(fmt.Sprintf("record %d of the batch Poll returned: ", i) + fmt.Sprintf(format, args...))
}

// payloadSize is how many data bytes p takes.
func payloadSize(p Payload) (int, error) {
	switch v := p.(type) {
	case nil:
		return 0, nil
	case Bytes:
		return len(v), nil
	case Text:
		return len(v), nil
	case JSON:
		return len(v.Document) + len(v.Schema), nil
	default:
		// Pointers to the payload types satisfy Payload too.
		return 0, fmt.Errorf("is a %T; use wasmconnect.Text, Bytes or JSON values", p)
	}
}

// packer builds a batch's data buffer and topic table.
type packer struct {
	data   []byte
	topics []string
}

// putSpan appends v to the data and stores its span at off in b.
func putSpan[T ~string | ~[]byte](p *packer, b block, off uint32, v T) {
	// Both fit in a u32: packSource checked the total against maxBatchData.
	b.put32(off, uint32(len(p.data)))
	b.put32(off+4, uint32(len(v)))
	p.data = append(p.data, v...)
}

// topic is the index of topic in the batch's topics. A batch mostly has
// one topic, so a scan from the newest is cheapest.
func (p *packer) topic(topic string) (uint32, error) {
	for i := len(p.topics) - 1; i >= 0; i-- {
		if p.topics[i] == topic {
			return uint32(i), nil
		}
	}
	// Topics travel as a list<string>, which must be UTF-8: lifting one
	// that is not traps the instance without naming the record.
	if !utf8.ValidString(topic) {
		return 0, fmt.Errorf("its topic %q is not UTF-8", topic)
	}
	p.topics = append(p.topics, topic)
	return uint32(len(p.topics) - 1), nil
}

// payload stores option<packed-payload> at off in b; packSource has
// already refused any type but these three.
func (p *packer) payload(b block, off uint32, payload Payload) {
	if payload == nil {
		return
	}
	b.put8(off, 1)
	v := off + optionPayloadValue
	switch pv := payload.(type) {
	case Bytes:
		b.put8(v+payloadKind, kindBinary)
		putSpan(p, b, v+payloadBytes, pv)
	case Text:
		b.put8(v+payloadKind, kindText)
		putSpan(p, b, v+payloadBytes, pv)
	case JSON:
		b.put8(v+payloadKind, kindJSON)
		putSpan(p, b, v+payloadBytes, pv.Document)
		if pv.Schema != "" {
			b.put8(v+payloadSchema, 1)
			putSpan(p, b, v+payloadSchema+optionSpanValue, pv.Schema)
		}
	}
}
