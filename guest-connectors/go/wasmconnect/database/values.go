package database

// Go values to and from the interface's values and row cells.

import (
	"fmt"
	"math"
	"time"

	"wasmconnect/go/wasmconnect/internal/wit/wasmconnect/database/sql"
)

func params(args []any) ([]sql.Value, error) {
	values := make([]sql.Value, len(args))
	for i, arg := range args {
		v, err := param(arg)
		if err != nil {
			return nil, fmt.Errorf("parameter %d: %w", i+1, err)
		}
		values[i] = v
	}
	return values, nil
}

func param(arg any) (sql.Value, error) {
	switch v := arg.(type) {
	case nil:
		return sql.Value{Tag: sql.ValueNull}, nil
	case bool:
		return sql.Value{Tag: sql.ValueBoolean, Boolean: v}, nil
	case int:
		return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
	case int8:
		return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
	case int16:
		return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
	case int32:
		return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
	case int64:
		return sql.Value{Tag: sql.ValueInt, Int: v}, nil
	case uint8:
		return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
	case uint16:
		return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
	case uint32:
		return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
	case uint:
		return unsigned(uint64(v))
	case uint64:
		return unsigned(v)
	case float32:
		return sql.Value{Tag: sql.ValueFloat32, Float32: v}, nil
	case float64:
		return sql.Value{Tag: sql.ValueFloat64, Float64: v}, nil
	case Decimal:
		return sql.Value{Tag: sql.ValueDecimal, Decimal: string(v)}, nil
	case string:
		return sql.Value{Tag: sql.ValueText, Text: v}, nil
	case []byte:
		if v == nil {
			return sql.Value{Tag: sql.ValueNull}, nil
		}
		return sql.Value{Tag: sql.ValueBytes, Bytes: v}, nil
	case time.Time:
		return sql.Value{Tag: sql.ValueTimestampTz, TimestampTz: v.UnixMicro()}, nil
	}
	return sql.Value{}, fmt.Errorf("a %T cannot be a parameter; use nil, bool, an integer, float32, float64, string, []byte, database.Decimal or time.Time", arg)
}

func unsigned(v uint64) (sql.Value, error) {
	if v > math.MaxInt64 {
		return sql.Value{}, fmt.Errorf("%d does not fit a 64-bit signed integer", v)
	}
	return sql.Value{Tag: sql.ValueInt, Int: int64(v)}, nil
}

// cell is one result value as a Go value.
func cell(data []byte, c sql.Cell) (any, error) {
	bytes := func() ([]byte, error) {
		end := uint64(c.Bytes.Offset) + uint64(c.Bytes.Len)
		if end > uint64(len(data)) {
			return nil, fmt.Errorf("the host sent a cell outside its row data (%d+%d of %d bytes)", c.Bytes.Offset, c.Bytes.Len, len(data))
		}
		return data[c.Bytes.Offset:end:end], nil
	}
	const secondsPerDay = 24 * 60 * 60
	switch c.Kind {
	case sql.ValueKindNull:
		return nil, nil
	case sql.ValueKindBoolean:
		return c.Num != 0, nil
	case sql.ValueKindInt:
		return c.Num, nil
	case sql.ValueKindFloat32:
		return math.Float32frombits(uint32(c.Num)), nil
	case sql.ValueKindFloat64:
		return math.Float64frombits(uint64(c.Num)), nil
	case sql.ValueKindDecimal:
		b, err := bytes()
		return Decimal(b), err
	case sql.ValueKindText:
		b, err := bytes()
		return string(b), err
	case sql.ValueKindBytes:
		b, err := bytes()
		return append([]byte{}, b...), err
	case sql.ValueKindDate:
		return time.Unix(c.Num*secondsPerDay, 0).UTC(), nil
	case sql.ValueKindTime:
		return time.Duration(c.Num) * time.Microsecond, nil
	case sql.ValueKindTimestamp, sql.ValueKindTimestampTz:
		return time.UnixMicro(c.Num).UTC(), nil
	default:
		b, err := bytes()
		return Raw(append([]byte{}, b...)), err
	}
}
