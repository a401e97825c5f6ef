#!/usr/bin/env node
// Entry shim for `dsrd`: the daemon is TypeScript run by Node's type stripping, which needs Node 24.
// Written in plain JavaScript that older Node versions can parse, so they fail with a clear message.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `dsrd needs Node.js 24 or newer; this is ${process.version} (${process.execPath}).\n` +
      'Run it with the Node that `npm ci` installs: `npx dsrd ...` or `node_modules/.bin/node daemon/main.ts ...`.\n',
  );
  process.exit(1);
}
// Imported, not re-executed: the daemon must stay the process systemd started (sd_notify checks the PID).
await import('../daemon/main.ts');
