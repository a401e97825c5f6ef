/**
 * Whether this kernel lets us send live frames (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES),
 * which the lab's traffic generator is built on. Some hosts refuse it with EPERM although plain
 * test runs work (seen on a 6.18 guest in lockdown "integrity" mode whose bounding set lacks
 * CAP_SYS_RESOURCE; which of the two, if either, is the cause is not known). The probe runs the generator itself for one frame on the
 * loopback of a network namespace of its own (unshare --net: the kernel removes it with the
 * process), so nothing leaves it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./trafficgen-worker.ts', import.meta.url));
const PROBE_TIMEOUT_MS = 20_000;

/**
 * null when live frames work; otherwise the kernel's refusal, for a skip or a report. Any other
 * failure of the generator also yields null, so that the test or bench that needs it fails with
 * the generator's own error instead of being skipped.
 */
export function liveFramesRefusal(): Promise<string | null> {
  const args = ['--net', process.execPath, WORKER, '--ifname', 'lo', '--dst-mac', '02:00:00:00:00:01'];
  args.push('--src-ip', '198.18.0.1', '--dst-ip', '198.18.0.2', '--seconds', '0.001', '--chunk', '1');
  return new Promise((resolve) => {
    const child = spawn('unshare', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', () => resolve(null));
    child.on('close', (code) => {
      clearTimeout(timer);
      const refused = /E_BPF_TEST_RUN: bpf_prog_test_run_opts failed: (Operation not permitted[^\n]*)/.exec(
        stderr,
      );
      resolve(code !== 0 && refused ? `the kernel refuses BPF_F_TEST_XDP_LIVE_FRAMES: ${refused[1]}` : null);
    });
  });
}
