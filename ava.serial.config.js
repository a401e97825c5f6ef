// The lab tests that judge timing on the machine's CPUs (a drill's forwarding window, an election
// thread that loses its CPU): they run after the rest of the suite, one file at a time, so that no
// other lab competes with them for the two cores. `npm test` and scripts/test run both passes.
// Each file runs in a child process of its own rather than a worker thread of ava's: these load
// libbpf through koffi and start worker threads of their own, and a native library torn down with
// a worker thread's isolate once crashed the whole of ava (SIGSEGV) after every test had passed.
export default {
  workerThreads: false,
  extensions: ['ts'],
  files: ['test/**/*.serial.test.ts'],
  timeout: '120s',
  concurrency: 1,
};
