// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./interfaces/wasi-io-poll.d.ts" />
/// <reference path="./interfaces/wasmconnect-connector-batches.d.ts" />
/// <reference path="./interfaces/wasmconnect-connector-config-def.d.ts" />
/// <reference path="./interfaces/wasmconnect-connector-context.d.ts" />
/// <reference path="./interfaces/wasmconnect-connector-logging.d.ts" />
/// <reference path="./interfaces/wasmconnect-connector-plugin.d.ts" />
/// <reference path="./interfaces/wasmconnect-connector-record-transform.d.ts" />
/// <reference path="./interfaces/wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/transform@0.2.0' {
  export type * as WasiIoPoll0212 from 'wasi:io/poll@0.2.12'; // import wasi:io/poll@0.2.12
  export type * as WasmconnectConnectorBatches020 from 'wasmconnect:connector/batches@0.2.0'; // import wasmconnect:connector/batches@0.2.0
  export type * as WasmconnectConnectorConfigDef020 from 'wasmconnect:connector/config-def@0.2.0'; // import wasmconnect:connector/config-def@0.2.0
  export type * as WasmconnectConnectorContext020 from 'wasmconnect:connector/context@0.2.0'; // import wasmconnect:connector/context@0.2.0
  export type * as WasmconnectConnectorLogging020 from 'wasmconnect:connector/logging@0.2.0'; // import wasmconnect:connector/logging@0.2.0
  export type * as WasmconnectConnectorTypes020 from 'wasmconnect:connector/types@0.2.0'; // import wasmconnect:connector/types@0.2.0
  export * as plugin from 'wasmconnect:connector/plugin@0.2.0'; // export wasmconnect:connector/plugin@0.2.0
  export * as recordTransform from 'wasmconnect:connector/record-transform@0.2.0'; // export wasmconnect:connector/record-transform@0.2.0
}
