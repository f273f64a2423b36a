// RateSource: generates test events at a configured rate, for load tests,
// demos and pipelines that need a steady, checkable stream.
//
//	connector.class=RateSource
//	topic=events
//	rate=500            events per second per task (0: as fast as possible)
//	iterations=0        events per task before it goes idle (0: no end)
//	users=100           distinct keys (user-0 … user-99)
//	batch.size=100      most events per poll
//	tasks.max=2
//
// Event n of task t is the JSON document
//
//	{"task":t,"seq":n,"user":"user-<n mod users>","amount":<cents>/100,"ts":<ms>}
//
// keyed by its user. amount is a pure function of (t, n), so a consumer
// can verify every event. The source partition is {"task":t} and the
// offset {"seq":n}: a restarted task resumes after its last event Kafka
// acknowledged.
package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/source"
)

// amountCents is the event's amount: a cheap hash of (task, seq), so any
// consumer can recompute it.
func amountCents(task, seq int64) int64 {
	x := uint64(task)*0x9E3779B97F4A7C15 + uint64(seq)*0xBF58476D1CE4E5B9
	x ^= x >> 31
	return int64(x % 100000)
}

type rateTask struct {
	topic      string
	task       int64
	rate       int64
	iterations int64
	users      int64
	batch      int64
	partition  string

	next    int64     // seq of the next event
	started time.Time // pacing clock
	sent    int64     // events since started
}

func (r *rateTask) Start(config wc.Config) error {
	var err error
	r.topic = config.String("topic", "")
	if r.task, err = config.Int("task.index", 0); err != nil {
		return wc.Fatal(err.Error())
	}
	for _, setting := range []struct {
		key string
		def int64
		out *int64
	}{{"rate", 10, &r.rate}, {"iterations", 0, &r.iterations}, {"users", 100, &r.users}, {"batch.size", 100, &r.batch}} {
		if *setting.out, err = config.Int(setting.key, setting.def); err != nil {
			return wc.Fatal(err.Error())
		}
	}
	r.partition = fmt.Sprintf(`{"task":%d}`, r.task)
	stored, err := wc.ReadOffset(r.partition)
	if err != nil {
		return err
	}
	if stored != "" {
		var offset struct{ Seq int64 }
		if err := json.Unmarshal([]byte(stored), &offset); err != nil {
			return wc.Fatal(fmt.Sprintf("stored offset %s is not usable: %v", stored, err))
		}
		r.next = offset.Seq + 1
	}
	r.started = time.Now()
	wc.Infof("task %d generating into %s at %d/s from seq %d", r.task, r.topic, r.rate, r.next)
	return nil
}

// due is how many events the rate allows now.
func (r *rateTask) due() int64 {
	n := r.batch
	if r.rate > 0 {
		allowed := int64(time.Since(r.started).Seconds()*float64(r.rate)) - r.sent
		n = min(n, allowed)
	}
	if r.iterations > 0 {
		n = min(n, r.iterations-r.next)
	}
	return max(n, 0)
}

func (r *rateTask) Poll() ([]wc.SourceRecord, error) {
	n := r.due()
	if n == 0 {
		// Not yet due (or done): wait a little rather than spin.
		wait := 100 * time.Millisecond
		if r.rate > 0 && r.iterations == 0 || r.next < r.iterations {
			wait = min(wait, time.Second/time.Duration(max(r.rate, 1)))
		}
		wc.SleepUnlessStopped(wait)
		return nil, nil
	}
	now := time.Now().UnixMilli()
	records := make([]wc.SourceRecord, n)
	for i := range records {
		seq := r.next
		r.next++
		user := "user-" + strconv.FormatInt(seq%r.users, 10)
		cents := amountCents(r.task, seq)
		records[i] = wc.SourceRecord{
			Partition: r.partition,
			Offset:    `{"seq":` + strconv.FormatInt(seq, 10) + `}`,
			Topic:     r.topic,
			Key:       wc.Text(user),
			Value: wc.JSON{Document: fmt.Sprintf(`{"task":%d,"seq":%d,"user":%q,"amount":%d.%02d,"ts":%d}`,
				r.task, seq, user, cents/100, cents%100, now)},
			Timestamp: &now,
		}
	}
	r.sent += n
	return records, nil
}

func (r *rateTask) Stop() {
	wc.Infof("task %d stopped after seq %d", r.task, r.next-1)
}

func validate(config wc.Config) []wc.ConfigError {
	var problems []wc.ConfigError
	for _, key := range []string{"rate", "iterations", "users", "batch.size"} {
		n, err := config.Int(key, 1)
		switch {
		case err != nil:
			problems = append(problems, wc.ConfigError{Key: key, Message: err.Error()})
		case n < 0:
			problems = append(problems, wc.ConfigError{Key: key, Message: key + " must not be negative"})
		case n == 0 && (key == "users" || key == "batch.size"):
			problems = append(problems, wc.ConfigError{Key: key, Message: key + " must be at least 1"})
		}
	}
	return problems
}

// taskConfigs gives each task its index, so tasks generate disjoint streams.
func taskConfigs(config wc.Config, maxTasks int) ([]wc.Config, error) {
	configs := make([]wc.Config, maxTasks)
	for i := range configs {
		configs[i] = config.Clone()
		configs[i]["task.index"] = strconv.Itoa(i)
	}
	return configs, nil
}

func init() {
	source.Register(source.Connector{
		Metadata: wc.Metadata{
			Name:        "io.wasmconnect.go.RateSourceConnector",
			Aliases:     []string{"RateSource", "GoRateSource"},
			Version:     "0.1.0",
			Description: "Generates verifiable test events at a configured rate per task (written in Go)",
		},
		Keys: []wc.Key{
			{Name: "topic", Type: wc.String, Required: true, Importance: wc.High, Doc: "The topic to publish events to"},
			{Name: "rate", Type: wc.Long, Default: wc.Default("10"), Importance: wc.Medium, Doc: "Events per second per task; 0 for as fast as possible"},
			{Name: "iterations", Type: wc.Long, Default: wc.Default("0"), Importance: wc.Medium, Doc: "Events per task before it goes idle; 0 for no end"},
			{Name: "users", Type: wc.Int, Default: wc.Default("100"), Importance: wc.Low, Doc: "Distinct event keys"},
			{Name: "batch.size", Type: wc.Int, Default: wc.Default("100"), Importance: wc.Low, Doc: "Most events returned by one poll"},
		},
		Validate:    validate,
		TaskConfigs: taskConfigs,
		NewTask:     func() source.Task { return &rateTask{} },
	})
}

func main() {}
