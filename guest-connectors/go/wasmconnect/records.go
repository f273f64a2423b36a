package wasmconnect

// Records as connector code sees them: what a source returns, what a sink
// receives and what a transform rewrites.

// Payload is a record key or value: Text, Bytes or JSON; nil is null.
type Payload interface{ isPayload() }

// Text is a UTF-8 string payload (StringConverter's form).
type Text string

// Bytes is a binary payload (ByteArrayConverter's form).
type Bytes []byte

// JSON is a JSON document with an optional Kafka Connect schema in
// JsonConverter's schema format (JsonConverter's form). Document must be
// JSON text.
type JSON struct {
	Document string
	Schema   string // "" for schemaless
}

func (Text) isPayload()  {}
func (Bytes) isPayload() {}
func (JSON) isPayload()  {}

// Header is a Kafka record header; a nil Value is a null header.
type Header struct {
	Key   string
	Value []byte
}

// SourceRecord is one record for Kafka. Partition and Offset are JSON
// objects: the worker stores the offset of the last record Kafka
// acknowledged per partition, and ReadOffset hands it back after a restart.
type SourceRecord struct {
	Partition      string
	Offset         string
	Topic          string
	KafkaPartition *int32 // nil: the producer's partitioner chooses
	Key            Payload
	Value          Payload
	Headers        []Header
	Timestamp      *int64 // milliseconds since the epoch; nil: the producer stamps it
}

// TimestampType says how a sink record's timestamp was assigned.
type TimestampType uint8

const (
	NoTimestamp TimestampType = iota
	CreateTime
	LogAppendTime
)

// SinkRecord is one record a sink task receives, after the connector's
// converters and transforms.
type SinkRecord struct {
	Topic         string
	Partition     int32
	Offset        int64
	Key           Payload
	Value         Payload
	Headers       []Header
	Timestamp     *int64 // milliseconds since the epoch
	TimestampType TimestampType
}

// Record is a record as a transform sees it (Kafka's ConnectRecord).
type Record struct {
	Topic     string
	Partition *int32 // nil when not known
	Key       Payload
	Value     Payload
	Headers   []Header
	Timestamp *int64 // milliseconds since the epoch
}

// TopicPartition names a Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// PartitionOffset is a consumer position: the offset of the next record
// to read from a partition.
type PartitionOffset struct {
	Topic     string
	Partition int32
	Offset    int64
}
