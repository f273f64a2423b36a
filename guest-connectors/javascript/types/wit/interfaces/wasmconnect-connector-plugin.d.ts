// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.
/// <reference path="./wasmconnect-connector-config-def.d.ts" />
/// <reference path="./wasmconnect-connector-types.d.ts" />
declare module 'wasmconnect:connector/plugin@0.2.0' {
  /**
   * Returns the plugin's metadata.
   */
  export function metadata(): PluginMetadata;
  /**
   * Returns the plugin's own configuration keys. The host adds Kafka
   * Connect's common keys (`name`, `connector.class`, `tasks.max`, …).
   */
  export function configDefinition(): Array<ConfigKey>;
  /**
   * Validates a configuration beyond what `config-definition` says.
   * The host has already checked types and required keys; return one
   * `config-value` for each key the plugin has something to say about
   * (keys it does not mention are taken as valid).
   */
  export function validate(config: Config): Array<ConfigValue>;
  export type Config = import('wasmconnect:connector/types@0.2.0').Config;
  export type ConfigKey = import('wasmconnect:connector/config-def@0.2.0').ConfigKey;
  export type ConfigValue = import('wasmconnect:connector/config-def@0.2.0').ConfigValue;
  /**
   * The role a plugin plays.
   * # Variants
   * 
   * ## `"source"`
   * 
   * ## `"sink"`
   * 
   * ## `"transform"`
   */
  export type PluginKind = 'source' | 'sink' | 'transform';
  /**
   * Plugin metadata, shown by `GET /connector-plugins`.
   */
  export interface PluginMetadata {
    /**
     * The class name operators use in `connector.class` (or a transform's
     * `type`), for example `org.apache.kafka.connect.file.FileStreamSourceConnector`.
     */
    name: string,
    /**
     * Further names that resolve to this plugin (for example `FileStreamSource`).
     * The host also derives Kafka's simple-name aliases from `name`.
     */
    aliases: Array<string>,
    /**
     * Plugin version, for example `1.0.0`.
     */
    version: string,
    /**
     * Source, sink or transform; must match the world the component implements.
     */
    kind: PluginKind,
    /**
     * One sentence on what the plugin does.
     */
    description: string,
    /**
     * The task class name reported as `task.class` in task configurations;
     * `none` derives one from `name`.
     */
    taskClass?: string,
  }
}
