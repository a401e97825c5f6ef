/** Results of the config and log commands: config.reload, config.diff, log.level. */

/** A request line is at most 64 KiB (protocol.ts); the config text travels JSON-escaped inside one. */
export const MAX_DIFF_TEXT_BYTES = 48 * 1024;

/** What a reload did (config.reload), or what it would do (config.diff). */
export interface ConfigChangeSummary {
  /** False when the new config equals the running one (nothing to do). */
  changed: boolean;
  /** Top-level config sections that differ. */
  sections: string[];
  /** One line per change, e.g. "services.web-http.real_servers: + 198.18.200.4". */
  changes: string[];
  /** Parts the change is (or would be) handed to. */
  parts: string[];
  /** Parts that cannot apply it live (a reload would be refused). */
  needRestart: string[];
  fingerprint: string;
  /** False when the fingerprint changes, i.e. the peers must get the same change. */
  fingerprintSame: boolean;
}

export interface LogLevelResult {
  level: string;
  previous: string;
}
