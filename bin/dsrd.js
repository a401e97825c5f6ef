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
// Node keeps the compiled modules (type-stripped) on disk: a restarted director is back and pulling
// its peer's tables sooner. In systemd's CacheDirectory when the unit has one, else in the OS's
// temporary directory (Node's default). Worker threads read the directory from the environment.
const { enableCompileCache } = await import('node:module');
const { tmpdir } = await import('node:os');
process.env.NODE_COMPILE_CACHE ??= process.env.CACHE_DIRECTORY
  ? `${process.env.CACHE_DIRECTORY}/compile`
  : `${tmpdir()}/node-compile-cache`;
enableCompileCache(process.env.NODE_COMPILE_CACHE);
// Imported, not re-executed: the daemon must stay the process systemd started (sd_notify checks the PID).
await import('../daemon/main.ts');
