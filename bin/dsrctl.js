#!/usr/bin/env node
// Entry shim for `dsrctl`: TypeScript run by Node's type stripping, which needs Node 24.
// Written in plain JavaScript that older Node versions can parse, so they fail with a clear message.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `dsrctl needs Node.js 24 or newer; this is ${process.version} (${process.execPath}).\n` +
      'Run it with the Node that `npm ci` installs: `npx dsrctl ...` or `node_modules/.bin/node cli/dsrctl.ts ...`.\n',
  );
  process.exit(1);
}
await import('../cli/dsrctl.ts');
