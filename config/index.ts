/**
 * Public API of the config package. Other parts import from here only.
 * See config/README.md for the file format, the defaults and examples of use.
 */
export { ALERT_EVENTS, type AlertEvent } from './alert-events.ts';
export { type CheckResult, checkConfigFile, summarizeConfig } from './check.ts';
export {
  DEFAULT_ADVERT_INTERVAL_MS,
  DEFAULT_CONFIG_PATH,
  DEFAULT_MAGLEV_TABLE_SIZE,
  DEFAULTS,
} from './defaults.ts';
export type {
  ConfigDiff,
  ItemChange,
  ItemChanges,
  KeyRingChange,
  RealServerChanges,
  ServiceChange,
  WeightChange,
} from './diff.ts';
export { diffConfig } from './diff.ts';
export { formatConfigDiff } from './diff-format.ts';
export { type FileAccess, type FileResult, nodeFileAccess } from './files.ts';
export { canonicalJson, configFingerprint, FINGERPRINT_VERSION } from './fingerprint.ts';
export { type ConfigIssue, type ConfigIssueKind, formatConfigIssues } from './issues.ts';
export {
  type ConfigErrorCode,
  type ConfigResult,
  loadConfig,
  type ParseOptions,
  parseConfigText,
} from './load.ts';
export { type ConfigInput, ConfigSchema } from './schema.ts';
export { Secret } from './secret.ts';
export { type SerializeOptions, serializeConfig, serializeConfigInput } from './serialize.ts';
export type * from './types.ts';
export { DNS_RCODES, DNS_TYPES } from './types.ts';
