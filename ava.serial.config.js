// The lab tests that judge timing on the machine's CPUs (a drill's forwarding window, an election
// thread that loses its CPU): they run after the rest of the suite, one file at a time, so that no
// other lab competes with them for the two cores. `npm test` and scripts/test run both passes.
export default {
  extensions: ['ts'],
  files: ['test/**/*.serial.test.ts'],
  timeout: '120s',
  concurrency: 1,
};
