// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
declare module 'wasmconnect:connector/config-def@0.2.0' {
  /**
   * The type of a configuration value.
   * # Variants
   * 
   * ## `"boolean"`
   * 
   * ## `"string"`
   * 
   * ## `"int"`
   * 
   * ## `"short"`
   * 
   * ## `"long"`
   * 
   * ## `"double"`
   * 
   * ## `"list"`
   * 
   * ## `"class"`
   * 
   * ## `"password"`
   */
  export type ConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';
  /**
   * How important a setting is.
   * # Variants
   * 
   * ## `"high"`
   * 
   * ## `"medium"`
   * 
   * ## `"low"`
   */
  export type Importance = 'high' | 'medium' | 'low';
  /**
   * A hint for how wide a UI field should be.
   * # Variants
   * 
   * ## `"none"`
   * 
   * ## `"short"`
   * 
   * ## `"medium"`
   * 
   * ## `"long"`
   */
  export type Width = 'none' | 'short' | 'medium' | 'long';
  /**
   * What a configuration value names, when it names something outside the
   * sandbox. The host grants a connector exactly the resources its
   * configuration names through keys marked this way, and nothing else.
   * # Variants
   * 
   * ## `"read-file"`
   * 
   * A file the plugin reads (opened with `files.open` in `read` mode).
   * ## `"write-file"`
   * 
   * A file the plugin creates or appends to (`files.open` in `append` mode).
   * ## `"read-directory"`
   * 
   * A directory the plugin reads through WASI, at the same path.
   * ## `"write-directory"`
   * 
   * A directory the plugin reads and writes through WASI, at the same path.
   * ## `"network-endpoint"`
   * 
   * A `host:port` the plugin connects to with WASI sockets.
   * ## `"url"`
   * 
   * A URL whose host and port the plugin connects to with WASI sockets.
   */
  export type ResourceKind = 'read-file' | 'write-file' | 'read-directory' | 'write-directory' | 'network-endpoint' | 'url';
  /**
   * One configuration key (Kafka's `ConfigKeyInfo`).
   */
  export interface ConfigKey {
    /**
     * The key, for example `file`.
     */
    name: string,
    /**
     * Value type.
     */
    type: ConfigType,
    /**
     * Whether the key must be set (it has no default).
     */
    required: boolean,
    /**
     * The default as text; `none` is a null default.
     */
    defaultValue?: string,
    /**
     * Importance.
     */
    importance: Importance,
    /**
     * Documentation shown to operators.
     */
    documentation: string,
    /**
     * Group the key belongs to in UIs; `none` for no group.
     */
    group?: string,
    /**
     * Position within its group; -1 when unspecified.
     */
    orderInGroup: number,
    /**
     * UI width hint.
     */
    width: Width,
    /**
     * Display name; defaults to the key itself when empty.
     */
    displayName: string,
    /**
     * Keys whose validity depends on this one.
     */
    dependents: Array<string>,
    /**
     * The resource this key's value names, if any (see `resource-kind`).
     */
    resource?: ResourceKind,
  }
  /**
   * The validation result for one key (Kafka's `ConfigValue`).
   */
  export interface ConfigValue {
    /**
     * The key.
     */
    name: string,
    /**
     * The value as validated; `none` when unset.
     */
    value?: string,
    /**
     * Values the plugin suggests for this key.
     */
    recommendedValues: Array<string>,
    /**
     * Problems found; empty when the value is valid.
     */
    errors: Array<string>,
    /**
     * Whether a UI should show this key.
     */
    visible: boolean,
  }
}
