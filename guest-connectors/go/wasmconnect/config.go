package wasmconnect

// Configuration: the keys a plugin declares (Kafka's ConfigDef) and the
// values it is started with.

import (
	"fmt"
	"strconv"
	"strings"
)

// Config is a connector's, task's or transform's configuration.
type Config map[string]string

// String returns the trimmed value of key, or def when it is unset or blank.
func (c Config) String(key, def string) string {
	if v := strings.TrimSpace(c[key]); v != "" {
		return v
	}
	return def
}

// Int returns key as an integer, def when unset or blank, and an error
// naming the key when it is not an integer.
func (c Config) Int(key string, def int64) (int64, error) {
	v := strings.TrimSpace(c[key])
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, not %q", key, v)
	}
	return n, nil
}

// Bool returns key as a boolean (true or false, any case), def when
// unset or blank, and an error naming the key otherwise.
func (c Config) Bool(key string, def bool) (bool, error) {
	v := strings.TrimSpace(c[key])
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s must be true or false, not %q", key, v)
}

// List returns key as a comma-separated list with blank entries dropped
// and each entry trimmed (Kafka's LIST type); nil when unset.
func (c Config) List(key string) []string {
	var items []string
	for _, item := range strings.Split(c[key], ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// Clone returns a copy that the caller may change.
func (c Config) Clone() Config {
	out := make(Config, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Type is a configuration value's type (Kafka's ConfigDef.Type). The
// worker checks number and boolean syntax against it before the plugin
// sees a value.
type Type uint8

const (
	Boolean Type = iota
	String
	Int
	Short
	Long
	Double
	List
	Class
	Password
)

// Importance is Kafka's ConfigDef.Importance. The zero value is Medium,
// as in Kafka.
type Importance uint8

const (
	Medium Importance = iota
	High
	Low
)

// Resource marks a key whose value names something the sandbox must
// grant: ReadFile and WriteFile open the file through OpenFile and
// AppendFile, ReadDirectory and WriteDirectory mount the directory at the
// same path (package os works inside it).
type Resource uint8

const (
	NoResource Resource = iota
	ReadFile
	WriteFile
	ReadDirectory
	WriteDirectory
	NetworkEndpoint
	URL
)

// Key describes one configuration key; the zero Importance is Medium.
type Key struct {
	Name       string
	Type       Type
	Required   bool
	Default    *string // nil: no default
	Importance Importance
	Doc        string
	Group      string
	Resource   Resource
}

// Default is a convenience for Key.Default.
func Default(v string) *string { return &v }

// ConfigError is a problem a Validate function found with one key.
type ConfigError struct {
	Key     string
	Message string
}

// Metadata names the plugin (GET /connector-plugins shows it).
type Metadata struct {
	Name        string // the class name used in connector.class or a transform's type
	Aliases     []string
	Version     string
	Description string
}
