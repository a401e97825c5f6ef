/** Plain aligned text tables for terminal output (no colours: output is often piped or logged). */

export function table(rows: readonly (readonly string[])[], indent = ''): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i] ?? 0, row[i].length);
  }
  return rows
    .map((row) =>
      `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}`.trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** "198.18.0.1:80", "[2001:2::1]:80", and "*" for port 0 (every port). */
export function hostPort(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${host}:${port === 0 ? '*' : port}`;
}

/** 0.4s, 12s, 3m05s, 2h03m, 4d02h: short and sortable by eye. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'never';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function orDash(v: number | string | null | undefined): string {
  return v === null || v === undefined ? '-' : String(v);
}
