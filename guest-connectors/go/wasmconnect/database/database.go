// Package database reaches the databases a connector's configuration
// names, through the worker's wasmconnect:database/sql interface: the
// worker holds the drivers (PostgreSQL, MySQL/MariaDB, SQLite) and grants
// exactly the database a key marked wc.URL names, within its
// sandbox.allowed.hosts or sandbox.allowed.dirs.
//
// Importing it makes a source or sink a *-with-database component
// (componentize infers the world from the module's imports).
//
//	db, err := database.Open(config.String("connection.url", ""), "", "")
//	_, err = db.Exec("INSERT INTO t (k, v) VALUES (?, ?)", "a", 1)
//
// Parameters are written `$1, $2` for PostgreSQL and `?` elsewhere
// (DB.Dialect says which). Arguments are Go values: nil, bool, integers,
// float32, float64, string, []byte, Decimal and time.Time (an instant).
// Rows come back as the same kinds, with dates and timestamps as UTC
// time.Time and times of day as time.Duration.
package database

import (
	"errors"
	"fmt"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/wit/cabi"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/database/sql"
)

// Dialect is the SQL a database speaks.
type Dialect string

const (
	PostgreSQL Dialect = "postgresql"
	MySQL      Dialect = "mysql"
	SQLite     Dialect = "sqlite"
)

// Decimal is an exact number as decimal text ("-12.340").
type Decimal string

// Raw is a value of a type the worker does not decode (arrays, ranges,
// geometry), in the driver's wire format.
type Raw []byte

// Error is a failure the database (or the worker's grant check) reported.
// A retriable one (a lost connection, a deadlock) comes wrapped in
// wc.Retriable, so returning it from Put has the batch retried.
type Error struct {
	Message        string
	SQLState       string // "" when the database gave none
	NotGranted     bool   // the configuration does not name this database
	ConnectionLost bool   // the connection is unusable: Close it and Open again
}

func (e *Error) Error() string {
	if e.SQLState != "" {
		return fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.SQLState)
	}
	return e.Message
}

func dbError(e sql.DbError) error {
	switch e.Tag {
	case sql.DbErrorNotGranted:
		return &Error{Message: e.NotGranted, NotGranted: true}
	case sql.DbErrorRetriable:
		return wc.Retriable(detail(e.Retriable))
	default:
		return detail(e.Fatal)
	}
}

func detail(d sql.ErrorDetail) *Error {
	err := &Error{Message: d.Message, ConnectionLost: d.ConnectionLost}
	if d.Sqlstate != nil {
		err.SQLState = *d.Sqlstate
	}
	return err
}

// DB is an open connection. One instance uses it at a time; it has at
// most one open query (running another statement closes it).
type DB struct {
	conn    sql.Connection
	dialect Dialect
	closed  bool
}

// Open connects to url, the value of one of the connector's keys marked
// wc.URL (jdbc:postgresql://…, jdbc:mysql://…, jdbc:sqlite:/path/file.db,
// or postgres://…, sqlite:/path). A non-empty user or password overrides
// the URL's own.
func Open(url, user, password string) (*DB, error) {
	var u, p *string
	if user != "" {
		u = &user
	}
	if password != "" {
		p = &password
	}
	result := sql.ConnectionOpen(url, u, p)
	if result.IsErr {
		return nil, dbError(result.Err)
	}
	db := &DB{conn: result.Ok}
	switch db.conn.Dialect() {
	case sql.DialectPostgresql:
		db.dialect = PostgreSQL
	case sql.DialectMysql:
		db.dialect = MySQL
	default:
		db.dialect = SQLite
	}
	return db, nil
}

// Dialect is the SQL the database speaks.
func (db *DB) Dialect() Dialect { return db.dialect }

var errClosed = errors.New("the database connection is closed")

// Close releases the connection; later calls fail.
func (db *DB) Close() error {
	if !db.closed {
		db.closed = true
		db.conn.Drop()
	}
	return nil
}

func (db *DB) check() error {
	if db.closed {
		return errClosed
	}
	return nil
}

// ExecScript runs statements separated by semicolons, without parameters
// (a schema, say).
func (db *DB) ExecScript(script string) error {
	if err := db.check(); err != nil {
		return err
	}
	if result := db.conn.ExecuteScript(script); result.IsErr {
		return dbError(result.Err)
	}
	return nil
}

// Begin starts a transaction; Commit or Rollback ends it.
func (db *DB) Begin() error { return db.unit(db.conn.Begin) }

// Commit commits the transaction Begin started.
func (db *DB) Commit() error { return db.unit(db.conn.Commit) }

// Rollback abandons the transaction Begin started.
func (db *DB) Rollback() error { return db.unit(db.conn.Rollback) }

func (db *DB) unit(call func() cabi.Result[cabi.Unit, sql.DbError]) error {
	if err := db.check(); err != nil {
		return err
	}
	if result := call(); result.IsErr {
		return dbError(result.Err)
	}
	return nil
}

// Stmt is a prepared statement.
type Stmt struct {
	db     *DB
	stmt   sql.Statement
	closed bool
}

// Prepare compiles query once for repeated Exec, ExecBatch or Query.
func (db *DB) Prepare(query string) (*Stmt, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	result := db.conn.Prepare(query)
	if result.IsErr {
		return nil, dbError(result.Err)
	}
	return &Stmt{db: db, stmt: result.Ok}, nil
}

// Close releases the statement.
func (s *Stmt) Close() error {
	if !s.closed {
		s.closed = true
		s.stmt.Drop()
	}
	return nil
}

// Exec runs the statement with args; the number of rows it affected.
func (s *Stmt) Exec(args ...any) (int64, error) {
	values, err := params(args)
	if err != nil {
		return 0, err
	}
	result := s.stmt.Execute(values)
	if result.IsErr {
		return 0, dbError(result.Err)
	}
	return int64(result.Ok), nil
}

// ExecBatch runs the statement once per row of arguments, in order, in
// one call; the rows each affected. The first failure stops the batch.
func (s *Stmt) ExecBatch(rows [][]any) ([]int64, error) {
	batch := make([][]sql.Value, len(rows))
	for i, row := range rows {
		values, err := params(row)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		batch[i] = values
	}
	result := s.stmt.ExecuteBatch(batch)
	if result.IsErr {
		return nil, dbError(result.Err)
	}
	counts := make([]int64, len(result.Ok))
	for i, n := range result.Ok {
		counts[i] = int64(n)
	}
	return counts, nil
}

// Exec prepares and runs query once.
func (db *DB) Exec(query string, args ...any) (int64, error) {
	stmt, err := db.Prepare(query)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	return stmt.Exec(args...)
}

// Query runs query and reads all its rows (for large results, use
// Stmt.Query and read them in chunks).
func (db *DB) Query(query string, args ...any) (columns []string, rows [][]any, err error) {
	stmt, err := db.Prepare(query)
	if err != nil {
		return nil, nil, err
	}
	defer stmt.Close()
	cursor, err := stmt.Query(args...)
	if err != nil {
		return nil, nil, err
	}
	defer cursor.Close()
	for {
		chunk, err := cursor.Next(1000)
		if err != nil {
			return nil, nil, err
		}
		if chunk == nil {
			return cursor.Columns(), rows, nil
		}
		rows = append(rows, chunk...)
	}
}

// Rows is a running query.
type Rows struct {
	cursor  sql.Cursor
	columns []string
	done    bool
	closed  bool
}

// Query runs the statement; read its rows with Next.
func (s *Stmt) Query(args ...any) (*Rows, error) {
	values, err := params(args)
	if err != nil {
		return nil, err
	}
	result := s.stmt.Query(values)
	if result.IsErr {
		return nil, dbError(result.Err)
	}
	rows := &Rows{cursor: result.Ok}
	for _, c := range rows.cursor.Columns() {
		rows.columns = append(rows.columns, c.Name)
	}
	return rows, nil
}

// Columns names the result's columns.
func (r *Rows) Columns() []string { return r.columns }

// Next returns up to max further rows; nil once the query is exhausted.
func (r *Rows) Next(max int) ([][]any, error) {
	if r.done || r.closed {
		return nil, nil
	}
	result := r.cursor.Next(uint32(max))
	if result.IsErr {
		return nil, dbError(result.Err)
	}
	batch := result.Ok
	r.done = batch.Done
	if batch.Rows == 0 {
		if !r.done {
			return [][]any{}, nil
		}
		return nil, nil
	}
	width := len(batch.Cells) / int(batch.Rows)
	out := make([][]any, batch.Rows)
	for i := range out {
		row := make([]any, width)
		for j := range row {
			v, err := cell(batch.Data, batch.Cells[i*width+j])
			if err != nil {
				return nil, fmt.Errorf("row %d, column %d: %w", i, j, err)
			}
			row[j] = v
		}
		out[i] = row
	}
	return out, nil
}

// Close releases the cursor.
func (r *Rows) Close() error {
	if !r.closed {
		r.closed = true
		r.cursor.Drop()
	}
	return nil
}
