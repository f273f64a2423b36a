// SqlSink (go-sql-sink): keeps a database table in step with a topic's
// keys, like a compacted topic: each record upserts the row of its key,
// and a tombstone (null value) deletes it. PostgreSQL, MySQL/MariaDB and
// SQLite, through the worker's database interface.
//
// The table (created when missing) holds:
//
//	record_key       VARCHAR(255) PRIMARY KEY  the record key as text
//	record_value     TEXT                      the value as text (a JSON document as is)
//	kafka_topic      VARCHAR(255)              where the row's last record came from
//	kafka_partition  INTEGER
//	kafka_offset     BIGINT
//
// Each Put writes its batch in one transaction, so a batch lands whole or
// not at all, and a batch delivered again leaves the same rows. A record
// without a key (or a binary key that is not UTF-8) cannot have a row: it
// goes to the connector's error handling (errors.tolerance, the dead
// letter queue) once the rest of its batch is committed, and the batch
// goes on.
package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/database"
	"wasmconnect/go/wasmconnect/sink"
)

const (
	keyURL      = "connection.url"
	keyUser     = "connection.user"
	keyPassword = "connection.password"
	keyTable    = "table"
)

// The URL schemes the worker has drivers for, JDBC and native spellings.
var schemes = []string{"jdbc:postgresql:", "postgresql:", "postgres:", "jdbc:mysql:", "mysql:",
	"jdbc:mariadb:", "mariadb:", "jdbc:sqlite:", "sqlite:"}

// The table name goes into SQL unquoted, so only plain or
// schema-qualified identifiers are accepted.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

func validate(config wc.Config) []wc.ConfigError {
	var problems []wc.ConfigError
	if url := config.String(keyURL, ""); url != "" && !knownScheme(url) {
		problems = append(problems, wc.ConfigError{Key: keyURL, Message: fmt.Sprintf(
			"Invalid value %s for configuration %s: not a PostgreSQL, MySQL/MariaDB or SQLite URL "+
				"(jdbc:postgresql://host/db, jdbc:mysql://host/db, jdbc:sqlite:/path/file.db)", url, keyURL)})
	}
	if table := config.String(keyTable, ""); table != "" && !identifier.MatchString(table) {
		problems = append(problems, wc.ConfigError{Key: keyTable, Message: fmt.Sprintf(
			"Invalid value %s for configuration %s: letters, digits and underscores, optionally schema.table", table, keyTable)})
	}
	return problems
}

func knownScheme(url string) bool {
	for _, scheme := range schemes {
		if strings.HasPrefix(strings.ToLower(url), scheme) {
			return true
		}
	}
	return false
}

// statements are the CREATE TABLE, upsert and delete in dialect's SQL.
func statements(dialect database.Dialect, table string) (create, upsert, remove string) {
	create = "CREATE TABLE IF NOT EXISTS " + table + " (record_key VARCHAR(255) NOT NULL PRIMARY KEY, " +
		"record_value TEXT, kafka_topic VARCHAR(255) NOT NULL, kafka_partition INTEGER NOT NULL, kafka_offset BIGINT NOT NULL)"
	columns := "record_key, record_value, kafka_topic, kafka_partition, kafka_offset"
	switch dialect {
	case database.PostgreSQL:
		upsert = "INSERT INTO " + table + " (" + columns + ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (record_key) DO UPDATE SET " +
			"record_value = excluded.record_value, kafka_topic = excluded.kafka_topic, " +
			"kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset"
		remove = "DELETE FROM " + table + " WHERE record_key = $1"
	case database.MySQL:
		// VALUES(col) rather than MySQL 8's row alias: MariaDB knows only it.
		upsert = "INSERT INTO " + table + " (" + columns + ") VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE " +
			"record_value = VALUES(record_value), kafka_topic = VALUES(kafka_topic), " +
			"kafka_partition = VALUES(kafka_partition), kafka_offset = VALUES(kafka_offset)"
		remove = "DELETE FROM " + table + " WHERE record_key = ?"
	default:
		upsert = "INSERT INTO " + table + " (" + columns + ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (record_key) DO UPDATE SET " +
			"record_value = excluded.record_value, kafka_topic = excluded.kafka_topic, " +
			"kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset"
		remove = "DELETE FROM " + table + " WHERE record_key = ?"
	}
	return create, upsert, remove
}

// text is a payload as the text stored for it: a JSON document as is,
// binary data that is not UTF-8 as base64.
func text(p wc.Payload) string {
	switch v := p.(type) {
	case wc.Text:
		return string(v)
	case wc.JSON:
		return v.Document
	case wc.Bytes:
		if utf8.Valid(v) {
			return string(v)
		}
		return base64.StdEncoding.EncodeToString(v)
	}
	return ""
}

// keyText is the row key of a record, or why it has none.
func keyText(p wc.Payload) (string, error) {
	switch v := p.(type) {
	case nil:
		return "", errors.New("the record has no key, so it has no row")
	case wc.Bytes:
		if !utf8.Valid(v) {
			return "", errors.New("the record's binary key is not UTF-8 text")
		}
	}
	return text(p), nil
}

type sqlTask struct {
	url, user, password, table string
	db                         *database.DB
	upsert, remove             *database.Stmt
	rows                       int
}

func (t *sqlTask) Start(config wc.Config) error {
	t.url = config.String(keyURL, "")
	t.user = config.String(keyUser, "")
	t.password = config.String(keyPassword, "")
	t.table = config.String(keyTable, "")
	return nil
}

// connect opens the connection and prepares the statements on first use
// and after a lost connection: the database may be down when the task
// starts, and failing to reach it is then a retriable Put rather than a
// failed task.
func (t *sqlTask) connect() error {
	if t.db != nil {
		return nil
	}
	db, err := database.Open(t.url, t.user, t.password)
	if err != nil {
		return err
	}
	create, upsert, remove := statements(db.Dialect(), t.table)
	if err := db.ExecScript(create); err != nil {
		db.Close()
		return err
	}
	if t.upsert, err = db.Prepare(upsert); err == nil {
		t.remove, err = db.Prepare(remove)
	}
	if err != nil {
		db.Close()
		return err
	}
	t.db = db
	return nil
}

// disconnect drops a connection the database reported lost.
func (t *sqlTask) disconnect(err error) {
	var dbErr *database.Error
	if t.db != nil && errors.As(err, &dbErr) && dbErr.ConnectionLost {
		t.db.Close()
		t.db = nil
	}
}

func (t *sqlTask) Put(records []wc.SinkRecord) error {
	if len(records) == 0 {
		return nil
	}
	if err := t.connect(); err != nil {
		return err
	}
	errant, err := t.write(records)
	if err != nil {
		if t.db != nil {
			if rollback := t.db.Rollback(); rollback != nil {
				wc.Warnf("rollback after %v: %v", err, rollback)
			}
		}
		t.disconnect(err)
		return err
	}
	// Reported only once the rest of the batch is committed: a failure
	// before the commit redelivers the whole batch, and reporting inside
	// the transaction would send these records to the dead letter queue
	// once per attempt.
	for _, e := range errant {
		if err := sink.Report(e.record, e.reason); err != nil {
			return err
		}
	}
	return nil
}

// errantRecord is a record that cannot have a row, and why.
type errantRecord struct {
	record wc.SinkRecord
	reason error
}

// write applies records in one transaction and returns those that cannot
// have a row, for Put to report after the commit.
func (t *sqlTask) write(records []wc.SinkRecord) ([]errantRecord, error) {
	if err := t.db.Begin(); err != nil {
		return nil, err
	}
	var errant []errantRecord
	for _, r := range records {
		key, err := keyText(r.Key)
		if err != nil {
			errant = append(errant, errantRecord{r, err})
			continue
		}
		if r.Value == nil {
			_, err = t.remove.Exec(key)
		} else {
			_, err = t.upsert.Exec(key, text(r.Value), r.Topic, r.Partition, r.Offset)
		}
		if err != nil {
			return nil, fmt.Errorf("%s-%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
	}
	if err := t.db.Commit(); err != nil {
		return nil, err
	}
	t.rows += len(records) - len(errant)
	return errant, nil
}

func (t *sqlTask) Stop() {
	if t.db != nil {
		t.db.Close()
	}
	wc.Infof("wrote %d records into %s", t.rows, t.table)
}

func init() {
	sink.Register(sink.Connector{
		Metadata: wc.Metadata{
			Name:        "io.wasmconnect.go.SqlSinkConnector",
			Aliases:     []string{"GoSqlSink"},
			Version:     "0.1.0",
			Description: "Upserts each record into a table row by its key (a tombstone deletes it); PostgreSQL, MySQL/MariaDB or SQLite",
		},
		Keys: []wc.Key{
			{Name: keyURL, Type: wc.String, Required: true, Importance: wc.High, Resource: wc.URL,
				Doc: "The database: jdbc:postgresql://host:5432/db, jdbc:mysql://…, jdbc:mariadb://…, jdbc:sqlite:/path/file.db (or postgres://…, sqlite:/path)"},
			{Name: keyUser, Type: wc.String, Importance: wc.High, Doc: "The user to log in as (overrides the URL's)"},
			{Name: keyPassword, Type: wc.Password, Importance: wc.High, Doc: "The user's password (overrides the URL's)"},
			{Name: keyTable, Type: wc.String, Required: true, Importance: wc.High, Doc: "The table to keep; created when missing"},
		},
		Validate: validate,
		NewTask:  func() sink.Task { return &sqlTask{} },
	})
}

// main is not called in a component, but package main needs one.
func main() {}
