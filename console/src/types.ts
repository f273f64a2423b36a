// The JSON shapes of the REST API the console reads (Kafka Connect's, plus
// wasmconnect's extra fields and plugin endpoints).

export interface TaskState {
  id: number;
  state: string;
  worker_id: string;
  trace?: string;
  version?: string;
  /** wasmconnect's per-task resource usage (not in Kafka Connect). */
  resources?: {
    memory_bytes?: number;
    peak_memory_bytes?: number;
    guest_time_ms?: number;
    calls?: number;
    faults?: number;
  };
  errors?: Record<string, number>;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string; version?: string };
  tasks: TaskState[];
  type: string;
}

export interface ConnectorInfo {
  name: string;
  config: Record<string, string>;
  tasks: { connector: string; task: number }[];
  type: string;
}

/** `GET /connectors?expand=status&expand=info`. */
export type ExpandedConnectors = Record<string, { status?: ConnectorStatus; info?: ConnectorInfo }>;

export interface ConfigDefinition {
  name: string;
  type: string;
  required: boolean;
  default_value: string | null;
  importance: string;
  documentation: string;
  group: string | null;
  width: string;
  display_name: string;
  dependents: string[];
  order_in_group: number;
}

export interface ConfigValue {
  name: string;
  value: string | null;
  recommended_values: string[];
  errors: string[];
  visible: boolean;
}

/** `PUT /connector-plugins/{class}/config/validate`. */
export interface ConfigInfos {
  name: string;
  error_count: number;
  groups: string[];
  configs: { definition: ConfigDefinition | null; value: ConfigValue }[];
}

/** `GET /connector-plugins?connectorsOnly=false`. */
export interface PluginSummary {
  class: string;
  type: string;
  version?: string;
}

/** `GET /wasmconnect/plugins`. */
export interface PluginVersion {
  class: string;
  type: string;
  version: string;
  sha256: string;
  aliases?: string[];
  description?: string;
  contract?: string;
  used_by?: string[];
  uploaded?: boolean;
}

/** `GET /connectors/{name}/offsets`. */
export interface Offsets {
  offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[];
}
