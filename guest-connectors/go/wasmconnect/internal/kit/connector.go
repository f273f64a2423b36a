package kit

// The connector interface sources and sinks export: the connector
// instance keeps the configuration and splits it into task
// configurations.

import (
	wc "wasmconnect/go/wasmconnect"
	"wasmconnect/go/wasmconnect/internal/wit/cabi"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/connector"
	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/connector/types"
)

// ServeConnector answers the connector interface's calls for p; split
// may be nil (every task gets the connector's configuration).
func ServeConnector(p *Plugin, split func(config wc.Config, maxTasks int) ([]wc.Config, error)) {
	var started wc.Config
	connector.Exports.Start = func(config types.Config) cabi.Result[cabi.Unit, types.TaskError] {
		values := p.Effective(config)
		err := p.FirstProblem(values)
		if err == nil {
			started = values
		}
		return Result(err)
	}
	connector.Exports.TaskConfigs = func(maxTasks uint32) cabi.Result[[]types.Config, types.TaskError] {
		var configs []wc.Config
		err := Guard(func() (err error) {
			if split != nil {
				configs, err = split(started.Clone(), int(maxTasks))
				return err
			}
			for range maxTasks {
				configs = append(configs, started.Clone())
			}
			return nil
		})
		out := make([]types.Config, len(configs))
		for i, c := range configs {
			out[i] = WITConfig(c)
		}
		return ResultOf(out, err)
	}
	connector.Exports.Stop = func() { started = nil }
	connector.Exports.AlterOffsets = func(types.Config, []cabi.Tuple2[string, *string]) cabi.Result[bool, types.TaskError] {
		// The kit keeps no offsets of its own: any change is acknowledged.
		return ResultOf(true, nil)
	}
}
