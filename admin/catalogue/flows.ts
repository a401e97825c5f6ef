/** Results of the forwarder's commands: conns (the connection table) and explain (one flow). */

export interface ConnEntry {
  service: string;
  protocol: 'tcp' | 'udp';
  client: string;
  clientPort: number;
  vip: string;
  vipPort: number;
  realServer: string;
  /** e.g. "established", "closing", "udp". */
  state: string;
  /** Seconds until the entry expires if no packet refreshes it. */
  expiresS: number;
}

export interface ConnsResult {
  entries: ConnEntry[];
  /** Entries matching the filter, before `limit` cut the list. */
  total: number;
}

export interface ExplainResult {
  /** The service that matches VIP:port/proto, or null (the packet is passed to the kernel). */
  service: string | null;
  /** Real server the flow goes to; null when no real server can take it. */
  realServer: string | null;
  /** How it was chosen: the connection table, persistence, the Maglev hash, the sorry server, or nothing. */
  via: 'conn-table' | 'persistence' | 'hash' | 'sorry-server' | 'none';
  /** One line per step of the decision, in order. */
  steps: string[];
}
