package wasmconnect

// The source world's exports, flattened by the canonical ABI: a
// configuration arrives as the (address, length) of a list of string
// pairs the host copied into the argument arena; anything larger than one
// value is returned through a pointer to a block laid out as the ABI
// prescribes (offsets in the comments are canonical-ABI offsets for
// wit/connector.wit; change them only with the WIT). poll's batch is
// packed in abi_batch.go.

import (
	"fmt"
	"strings"
)

// begin drops the previous call's results (the host has copied them).
func begin() {
	clear(retained)
	retained = retained[:0]
}

// end frees the arguments the host allocated for this call.
func end() { resetArguments() }

func source() *Source {
	if registered == nil {
		panic("wasmconnect: no connector registered; call wasmconnect.RegisterSource from an init function")
	}
	return registered
}

// guard runs f, turning a panic into a fatal error that names it, so a
// bug fails the task with a readable trace instead of trapping.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Fatal(fmt.Sprintf("panic: %v", r))
		}
	}()
	return f()
}

// --- plugin ---------------------------------------------------------------

//go:wasmexport wasmconnect:connector/plugin@0.2.0#metadata
func exportMetadata() uint32 {
	begin()
	defer end()
	m := source().Metadata
	b := newBlock(48)
	b.putString(0, m.Name)
	b.putStrings(8, m.Aliases)
	b.putString(16, m.Version)
	b.put8(24, 0) // plugin-kind.source
	b.putString(28, m.Description)
	b.putOptionString(36, nil) // task-class: derived by the worker
	return b.base
}

//go:wasmexport wasmconnect:connector/plugin@0.2.0#config-definition
func exportConfigDefinition() uint32 {
	begin()
	defer end()
	keys := source().Keys
	list := newBlock(uint32(len(keys)) * 76)
	for i, k := range keys {
		e := uint32(i) * 76
		list.putString(e, k.Name)
		list.put8(e+8, uint8(k.Type))
		list.putBool(e+9, k.Required)
		list.putOptionString(e+12, k.Default)
		list.put8(e+24, k.Importance.wit())
		list.putString(e+28, k.Doc)
		if k.Group != "" {
			list.putOptionString(e+36, &k.Group)
		} else {
			list.putOptionString(e+36, nil)
		}
		list.put32(e+48, ^uint32(0)) // order-in-group -1
		list.put8(e+52, 0)           // width none
		list.putString(e+56, k.Name) // display name
		list.putStrings(e+64, nil)   // dependents
		if k.Resource != NoResource {
			list.put8(e+72, 1)
			list.put8(e+73, uint8(k.Resource)-1)
		} else {
			list.put8(e+72, 0)
		}
	}
	ret := newBlock(8)
	ret.put32(0, list.base)
	ret.put32(4, uint32(len(keys)))
	return ret.base
}

// problems lists the configuration's errors by key, in key order.
func problems(config Config) (keys []string, byKey map[string][]string) {
	byKey = map[string][]string{}
	add := func(key, message string) {
		if _, seen := byKey[key]; !seen {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], message)
	}
	s := source()
	for _, k := range s.Keys {
		if k.Required && k.Default == nil && strings.TrimSpace(config[k.Name]) == "" {
			add(k.Name, fmt.Sprintf("Missing required configuration %q which has no default value.", k.Name))
		}
	}
	if s.Validate != nil {
		for _, e := range s.Validate(config) {
			add(e.Key, e.Message)
		}
	}
	return keys, byKey
}

// firstProblem is the configuration's first error, for start calls.
func firstProblem(config Config) error {
	keys, byKey := problems(config)
	if len(keys) == 0 {
		return nil
	}
	return Fatal(byKey[keys[0]][0])
}

//go:wasmexport wasmconnect:connector/plugin@0.2.0#validate
func exportValidate(ptr, n uint32) uint32 {
	begin()
	defer end()
	config := liftConfig(ptr, n)
	var keys []string
	var byKey map[string][]string
	if err := guard(func() error { keys, byKey = problems(config); return nil }); err != nil {
		// A bug in Validate: report it rather than trap.
		keys, byKey = []string{"name"}, map[string][]string{"name": {"validate failed: " + err.Error()}}
	}
	list := newBlock(uint32(len(keys)) * 40)
	for i, key := range keys {
		e := uint32(i) * 40
		list.putString(e, key)
		if v, ok := config[key]; ok {
			list.putOptionString(e+8, &v)
		} else {
			list.putOptionString(e+8, nil)
		}
		list.putStrings(e+20, nil)
		list.putStrings(e+28, byKey[key])
		list.putBool(e+36, true)
	}
	ret := newBlock(8)
	ret.put32(0, list.base)
	ret.put32(4, uint32(len(keys)))
	return ret.base
}

// --- connector ------------------------------------------------------------

var connectorConfig Config

//go:wasmexport wasmconnect:connector/connector@0.2.0#start
func exportConnectorStart(ptr, n uint32) uint32 {
	begin()
	defer end()
	config := liftConfig(ptr, n)
	err := firstProblem(config)
	if err == nil {
		connectorConfig = config
	}
	ret := newBlock(24)
	ret.putResult(0, err)
	return ret.base
}

//go:wasmexport wasmconnect:connector/connector@0.2.0#task-configs
func exportTaskConfigs(maxTasks uint32) uint32 {
	begin()
	defer end()
	var configs []Config
	err := guard(func() (err error) {
		if split := source().TaskConfigs; split != nil {
			configs, err = split(connectorConfig.Clone(), int(maxTasks))
			return err
		}
		for i := uint32(0); i < maxTasks; i++ {
			configs = append(configs, connectorConfig.Clone())
		}
		return nil
	})
	ret := newBlock(24)
	ret.putResult(0, err)
	if err == nil {
		list := newBlock(uint32(len(configs)) * 8)
		for i, c := range configs {
			entries := newBlock(uint32(len(c)) * 16)
			j := uint32(0)
			for k, v := range c {
				entries.putString(j*16, k)
				entries.putString(j*16+8, v)
				j++
			}
			list.put32(uint32(i)*8, entries.base)
			list.put32(uint32(i)*8+4, uint32(len(c)))
		}
		ret.put32(4, list.base)
		ret.put32(8, uint32(len(configs)))
	}
	return ret.base
}

//go:wasmexport wasmconnect:connector/connector@0.2.0#stop
func exportConnectorStop() {
	begin()
	defer end()
	connectorConfig = nil
}

//go:wasmexport wasmconnect:connector/connector@0.2.0#alter-offsets
func exportAlterOffsets(configPtr, configLen, offsetsPtr, offsetsLen uint32) uint32 {
	begin()
	defer end()
	// Offsets are whatever JSON the task wrote; any value is accepted.
	ret := newBlock(24)
	ret.putResult(0, nil)
	ret.putBool(4, true)
	return ret.base
}

// --- source task ----------------------------------------------------------

var task SourceTask

//go:wasmexport wasmconnect:connector/source-task@0.2.0#start
func exportTaskStart(ptr, n uint32) uint32 {
	begin()
	defer end()
	config := liftConfig(ptr, n)
	err := firstProblem(config)
	if err == nil {
		err = guard(func() error {
			task = source().NewTask()
			return task.Start(config)
		})
	}
	ret := newBlock(24)
	ret.putResult(0, err)
	return ret.base
}

//go:wasmexport wasmconnect:connector/source-task@0.2.0#poll
func exportPoll() uint32 {
	begin()
	defer end()
	var batch *sourceBatch
	err := guard(func() error {
		if task == nil {
			return Fatal("poll before start")
		}
		records, err := task.Poll()
		if err != nil {
			return err
		}
		batch, err = packSource(records)
		return err
	})
	ret := newBlock(pollResultSize)
	ret.putResult(0, err)
	if err == nil {
		batch.lower(ret, pollResultBatch)
	}
	return ret.base
}

//go:wasmexport wasmconnect:connector/source-task@0.2.0#commit-records
func exportCommitRecords(ptr, n uint32) uint32 {
	begin()
	defer end()
	// The kit asks for no per-record acknowledgements (no ack tokens).
	ret := newBlock(24)
	ret.putResult(0, nil)
	return ret.base
}

//go:wasmexport wasmconnect:connector/source-task@0.2.0#commit
func exportCommit() uint32 {
	begin()
	defer end()
	err := guard(func() error {
		if c, ok := task.(Committer); ok {
			return c.Commit()
		}
		return nil
	})
	ret := newBlock(24)
	ret.putResult(0, err)
	return ret.base
}

//go:wasmexport wasmconnect:connector/source-task@0.2.0#stop
func exportTaskStop() {
	begin()
	defer end()
	if task != nil {
		if err := guard(func() error { task.Stop(); return nil }); err != nil {
			Errorf("stop: %v", err)
		}
		task = nil
	}
}
