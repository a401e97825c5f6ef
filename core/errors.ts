/**
 * The one catalogue of error codes for dsr-director.
 *
 * Every error the project raises carries a code from this table, a message a
 * person can act on, and a context object with the values that explain it.
 * Add codes here, never inline: operators grep logs for these codes.
 */
export const ErrorCodes = {
  // environment and setup
  E_NOT_ROOT: 'this operation needs root (or CAP_NET_ADMIN/CAP_BPF)',
  E_MISSING_TOOL: 'a required system tool or library is missing',
  E_COMMAND_FAILED: 'an external command exited with an error',
  E_TIMEOUT: 'an operation did not finish in time',
  // lab
  E_LAB_ADDRESS: 'a lab address is outside 198.18.0.0/15 or 2001:2::/48',
  E_LAB_STATE: 'the lab is not in the state this operation needs',
  // addresses (core/net)
  E_ADDRESS_INVALID: 'an IP or MAC address or a prefix length is not valid',
  // config
  E_CONFIG_PARSE: 'the config file is not valid YAML',
  E_CONFIG_INVALID: 'the config file does not match the schema',
  E_CONFIG_READ: 'the config file or a file it names cannot be read',
  // BPF / forwarder
  E_BPF_OPEN: 'the BPF object could not be opened',
  E_BPF_LOAD: 'the BPF object could not be loaded into the kernel',
  E_BPF_ATTACH: 'the XDP program could not be attached',
  E_BPF_MAP: 'a BPF map operation failed',
  E_BPF_PIN: 'a bpffs pin operation failed',
  E_BPF_TEST_RUN: 'BPF_PROG_TEST_RUN failed',
  E_MAGLEV_INPUT: 'the Maglev table cannot be built from this input',
  E_FORWARDER_STATE: 'the desired forwarder state is invalid or exceeds a table capacity',
  // kernel effects
  E_NETLINK: 'an rtnetlink request failed',
  E_PACKET_SOCKET: 'an AF_PACKET operation failed',
  E_SYSCALL: 'a system call through libc failed',
  E_NO_INTERFACE: 'the named network interface does not exist',
  // protocol
  E_DECODE: 'a message could not be decoded',
  E_AUTH: 'a message failed authentication',
  E_ILLEGAL_TRANSITION: 'a state machine was asked for a transition it does not allow',
  E_AUTH_KEY: 'an authentication key is missing, too short, duplicated or not allowed',
  E_KEY_ROTATION: 'a key rotation step is not safe yet (a peer has not caught up) or cannot be written',
  E_ELECTION_INPUT: 'an election input is out of range or names an unknown peer, group or condition',
  E_STATE_FILE: "a file in the director's state directory (node.state_dir) cannot be read or written",
  // daemon / admin
  E_PART_START: 'a daemon part failed to start',
  E_ADMIN_REQUEST: 'the admin request is malformed or unknown',
  E_DAEMON_UNREACHABLE: 'the dsrd daemon is not running or its socket is not reachable',
  E_USAGE: 'the command line is not valid',
  E_ADMIN_SOCKET: 'the admin socket cannot be created or is held by a running daemon',
  E_NOTIFY_SOCKET: 'the systemd notification socket cannot be used',
  E_RELOAD: 'a config reload could not be applied',
  E_REALSERVER: 'this host is not set up correctly as a DSR real server',
  E_INTERNAL: 'an unexpected error inside the daemon (a bug: please report it)',
  E_BENCH: 'a benchmark could not run',
  E_DRILL: 'a failover drill was stopped before its end',
  // alerts / metrics
  E_ALERT_TARGET_INVALID: 'an alert target is not valid (name, url, events or secret)',
  E_ALERT_TARGET_UNKNOWN: 'no alert target has this name',
  E_ALERT_SPOOL: 'the alert spool directory or dead-letter log cannot be used',
  E_METRICS_LISTEN: 'the metrics HTTP endpoint cannot listen on its address',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class DsrError extends Error {
  readonly code: ErrorCode;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'DsrError';
    this.code = code;
    this.context = context;
  }

  toJSON(): { code: ErrorCode; message: string; context: Record<string, unknown> } {
    return { code: this.code, message: this.message, context: this.context };
  }
}

export function isDsrError(e: unknown, code?: ErrorCode): e is DsrError {
  return e instanceof DsrError && (code === undefined || e.code === code);
}
