// FileSink (go-file-sink): appends one line per record to a file the
// configuration names, through the worker's files import (the file is
// granted because key `file` is marked wc.WriteFile; the rest of the
// filesystem stays invisible).
//
// Each line is `format` with {topic}, {partition}, {offset}, {key} and
// {value} replaced: payloads as text (a JSON document as is, bytes as
// UTF-8 or base64), a null key or value as `null`. Line breaks inside a
// key or value are written as `\n` and `\r` (as the Zig FileSink does), so
// one record stays one line. Before the worker
// commits offsets, Flush syncs the file, so what is committed is on disk.
package main

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/sink"
)

// lineBreaks keeps a payload on its line: a raw CR or LF would split one
// record into several lines of the file.
var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// text renders a payload for a line.
func text(p wc.Payload) string {
	switch v := p.(type) {
	case wc.Text:
		return lineBreaks.Replace(string(v))
	case wc.JSON:
		return lineBreaks.Replace(v.Document)
	case wc.Bytes:
		if utf8.Valid(v) {
			return lineBreaks.Replace(string(v))
		}
		return base64.StdEncoding.EncodeToString(v)
	}
	return "null"
}

// line is record r as format says, with a newline.
func line(format string, r wc.SinkRecord) string {
	return strings.NewReplacer(
		"{topic}", r.Topic,
		"{partition}", strconv.Itoa(int(r.Partition)),
		"{offset}", strconv.FormatInt(r.Offset, 10),
		"{key}", text(r.Key),
		"{value}", text(r.Value),
	).Replace(format) + "\n"
}

type fileTask struct {
	format string
	file   *wc.File
}

func (t *fileTask) Start(config wc.Config) error {
	t.format = config.String("format", "{value}")
	var err error
	t.file, err = wc.AppendFile(config.String("file", ""))
	return err
}

// Put writes the batch with one append, so a batch lands whole or not at
// all as far as the worker can tell.
func (t *fileTask) Put(records []wc.SinkRecord) error {
	var out bytes.Buffer
	for _, r := range records {
		out.WriteString(line(t.format, r))
	}
	_, err := t.file.Write(out.Bytes())
	return err
}

func (t *fileTask) Flush() error { return t.file.Sync() }

func (t *fileTask) Stop() {
	if t.file != nil {
		t.file.Close()
	}
}

func init() {
	sink.Register(sink.Connector{
		Metadata: wc.Metadata{
			Name:        "io.wasmconnect.go.FileSinkConnector",
			Aliases:     []string{"GoFileSink"},
			Version:     "0.1.0",
			Description: "Appends one formatted line per record to a file",
		},
		Keys: []wc.Key{
			{Name: "file", Type: wc.String, Required: true, Importance: wc.High, Resource: wc.WriteFile,
				Doc: "The file to append to; created when missing"},
			{Name: "format", Type: wc.String, Default: wc.Default("{value}"), Importance: wc.Medium,
				Doc: "Each line: text with {topic}, {partition}, {offset}, {key} and {value}"},
		},
		NewTask: func() sink.Task { return &fileTask{} },
	})
}

// main is not called in a component, but package main needs one.
func main() {}
