package kit

// The plugin interface every world exports: metadata, configuration
// keys and validation, the same for all three roles.

import (
	"fmt"
	"strings"

	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/configdef"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/plugin"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// Kind is the role a plugin plays.
type Kind = plugin.PluginKind

const (
	Source    = plugin.PluginKindSource
	Sink      = plugin.PluginKindSink
	Transform = plugin.PluginKindTransform
)

// Plugin is what every role describes about itself.
type Plugin struct {
	Metadata wc.Metadata
	Kind     Kind
	Keys     []wc.Key
	Validate func(wc.Config) []wc.ConfigError
}

// Serve makes p answer the plugin interface's calls.
func Serve(p *Plugin) {
	plugin.Exports.Metadata = func() plugin.PluginMetadata {
		return plugin.PluginMetadata{
			Name:        p.Metadata.Name,
			Aliases:     p.Metadata.Aliases,
			Version:     p.Metadata.Version,
			Kind:        p.Kind,
			Description: p.Metadata.Description,
		}
	}
	plugin.Exports.ConfigDefinition = func() []configdef.ConfigKey {
		keys := make([]configdef.ConfigKey, len(p.Keys))
		for i, k := range p.Keys {
			keys[i] = ConfigKey(k)
		}
		return keys
	}
	plugin.Exports.Validate = func(config types.Config) []configdef.ConfigValue {
		values := Config(config)
		var keys []string
		var byKey map[string][]string
		if err := Guard(func() error { keys, byKey = p.Problems(values); return nil }); err != nil {
			// A bug in Validate: report it rather than trap.
			keys, byKey = []string{"name"}, map[string][]string{"name": {"validate failed: " + err.Error()}}
		}
		out := make([]configdef.ConfigValue, len(keys))
		for i, key := range keys {
			out[i] = configdef.ConfigValue{Name: key, RecommendedValues: []string{}, Errors: byKey[key], Visible: true}
			if v, ok := values[key]; ok {
				out[i].Value = &v
			}
		}
		return out
	}
}

// ConfigKey is k as the contract's config-key.
func ConfigKey(k wc.Key) configdef.ConfigKey {
	key := configdef.ConfigKey{
		Name:          k.Name,
		Type:          configdef.ConfigType(k.Type),
		Required:      k.Required,
		DefaultValue:  k.Default,
		Documentation: k.Doc,
		OrderInGroup:  -1,
		Width:         configdef.WidthNone,
		DisplayName:   k.Name,
		Dependents:    []string{},
	}
	switch k.Importance {
	case wc.High:
		key.Importance = configdef.ImportanceHigh
	case wc.Low:
		key.Importance = configdef.ImportanceLow
	default:
		key.Importance = configdef.ImportanceMedium
	}
	if k.Group != "" {
		group := k.Group
		key.Group = &group
	}
	if k.Resource != wc.NoResource {
		resource := configdef.ResourceKind(k.Resource - 1)
		key.Resource = &resource
	}
	return key
}

// Problems lists config's errors by key, in the order found: required
// keys without a default that are unset or blank, then Validate's.
func (p *Plugin) Problems(config wc.Config) (keys []string, byKey map[string][]string) {
	byKey = map[string][]string{}
	add := func(key, message string) {
		if _, seen := byKey[key]; !seen {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], message)
	}
	for _, k := range p.Keys {
		if k.Required && k.Default == nil && strings.TrimSpace(config[k.Name]) == "" {
			add(k.Name, fmt.Sprintf("Missing required configuration %q which has no default value.", k.Name))
		}
	}
	if p.Validate != nil {
		for _, e := range p.Validate(config) {
			add(e.Key, e.Message)
		}
	}
	return keys, byKey
}

// FirstProblem is config's first error, for start calls: a start with a
// bad configuration fails with it.
func (p *Plugin) FirstProblem(config wc.Config) error {
	var err error
	if guarded := Guard(func() error {
		keys, byKey := p.Problems(config)
		if len(keys) > 0 {
			err = wc.Fatal(byKey[keys[0]][0])
		}
		return nil
	}); guarded != nil {
		return fmt.Errorf("validate failed: %w", guarded)
	}
	return err
}

// Effective is config as the plugin's code sees it: with the declared
// default of every key the configuration leaves unset.
func (p *Plugin) Effective(config types.Config) wc.Config {
	values := Config(config)
	for _, k := range p.Keys {
		if _, set := values[k.Name]; !set && k.Default != nil {
			values[k.Name] = *k.Default
		}
	}
	return values
}
