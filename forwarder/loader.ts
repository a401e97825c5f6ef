/**
 * Loads the forwarder's BPF object, pins its maps under bpffs and attaches
 * it to an interface with XDP.
 *
 * Restart without losing flows: every map is pinned at
 * <pinDir>/<map name>. When a pin exists, the object reuses that map instead of
 * creating one (restore, never flush), so a restarted daemon carries on with
 * the same connections, persistence entries, tables and counters; attaching
 * the new program replaces the old one in a single netlink request. Pins go
 * away only through uninstall().
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DsrError } from '../core/errors.ts';
import { bpfObjectPath } from './bpf-build.ts';
import { BpfMap, u32Key } from './bpf-map.ts';
import { decodeConfig, encodeConfig } from './layout.ts';
import { check, errnoText, libbpf, type Pointer, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE } from './libbpf.ts';
import { DEFAULT_SETTINGS, toForwarderConfig } from './settings.ts';

export const PROGRAM_NAME = 'dsr_xdp';
export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/dsr-director';
export const DEFAULT_OBJECT_PATH = bpfObjectPath(PROGRAM_NAME);

export const MAP_NAMES = [
  'svc_ids',
  'services',
  'reals',
  'maglev_tables',
  'conns4',
  'conns6',
  'persist',
  'frags',
  'tx_devs',
  'config',
  'vip_leases',
  'events',
  'svc_stats',
  'real_stats',
  'reason_stats',
] as const;
export type MapName = (typeof MAP_NAMES)[number];
const PER_CPU: ReadonlySet<MapName> = new Set(['svc_stats', 'real_stats', 'reason_stats']);
/**
 * Maps a restart may start afresh: the config (the reconciler writes it again at once), the
 * counters and the event ring. When the pinned one is of another shape (a new version changed the
 * config struct or added a counter; another ring size), it is replaced, not refused. Every other
 * map holds flows or the ids they name, and a different shape is an error, never a silent reset.
 */
const REPLACEABLE: ReadonlySet<MapName> = new Set([
  'config',
  // Written afresh by quorum mode (vip-leases.ts); a restarted daemon holds no lease yet.
  'vip_leases',
  'events',
  'svc_stats',
  'real_stats',
  'reason_stats',
]);

export type XdpMode = 'native' | 'generic';

export interface LoadOptions {
  objectPath?: string;
  /** bpffs directory for the map pins; null = no pins (tests, benchmarks). */
  pinDir?: string | null;
  /** connection table size, IPv4 and IPv6 tables each (default 1M) */
  connEntries?: number;
  /** IPv6 connection table size when it should differ from connEntries */
  conn6Entries?: number;
  persistEntries?: number;
  fragEntries?: number;
  /** ring buffer bytes, a power of two multiple of the page size */
  eventsBytes?: number;
}

/** Pin directory of a named instance. */
export function pinDirFor(instance: string, root = DEFAULT_PIN_ROOT): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(instance) || instance === '.' || instance === '..') {
    throw new DsrError('E_BPF_PIN', `instance name ${JSON.stringify(instance)} is not a plain name`, {
      instance,
    });
  }
  return join(root, instance);
}

function sized(name: string, n: number | undefined, min: number, max: number): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DsrError('E_BPF_LOAD', `${name} must be an integer in ${min}..${max}, got ${n}`, { name, n });
  }
  return n;
}

export class LoadedForwarder {
  readonly progFd: number;
  readonly maps: Record<MapName, BpfMap>;
  readonly pinDir: string | null;
  /** Maps taken over from existing pins (empty on a first start). */
  readonly restored: readonly MapName[];
  /** Pinned maps of another shape that were started afresh (REPLACEABLE). */
  readonly replaced: readonly MapName[];
  private obj: Pointer | null;

  constructor(
    obj: Pointer,
    progFd: number,
    maps: Record<MapName, BpfMap>,
    pinDir: string | null,
    pins: { restored: MapName[]; replaced: MapName[] },
  ) {
    this.obj = obj;
    this.progFd = progFd;
    this.maps = maps;
    this.pinDir = pinDir;
    this.restored = pins.restored;
    this.replaced = pins.replaced;
  }

  /** Attaches (or atomically replaces) the XDP program on ifindex; returns the mode used. */
  attach(ifindex: number, mode: XdpMode | 'auto' = 'auto'): XdpMode {
    const tryMode = (m: XdpMode): number =>
      libbpf.xdpAttach(ifindex, this.progFd, m === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    if (mode !== 'auto') {
      check('E_BPF_ATTACH', `attaching XDP (${mode}) to ifindex ${ifindex}`, tryMode(mode), {
        ifindex,
        mode,
      });
      return mode;
    }
    // A generic program already there (an earlier run fell back) blocks a native attach: replace it in kind.
    if (this.attachedId(ifindex, 'generic') !== 0) {
      check('E_BPF_ATTACH', `replacing generic XDP on ifindex ${ifindex}`, tryMode('generic'), { ifindex });
      return 'generic';
    }
    const rc = tryMode('native');
    if (rc === 0) return 'native';
    const rc2 = tryMode('generic');
    if (rc2 === 0) return 'generic';
    throw new DsrError(
      'E_BPF_ATTACH',
      `attaching XDP to ifindex ${ifindex} failed: native ${errnoText(-rc)}, generic ${errnoText(-rc2)}`,
      { ifindex },
    );
  }

  /** Program id attached in that mode (0 = none). */
  attachedId(ifindex: number, mode: XdpMode): number {
    return libbpf.xdpQueryId(ifindex, mode === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
  }

  /** Removes whatever XDP program is attached to ifindex, in either mode. */
  detach(ifindex: number): void {
    for (const mode of ['native', 'generic'] as const) {
      if (this.attachedId(ifindex, mode) === 0) continue;
      const flags = mode === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
      check(
        'E_BPF_ATTACH',
        `detaching XDP (${mode}) from ifindex ${ifindex}`,
        libbpf.xdpDetach(ifindex, flags),
        {
          ifindex,
        },
      );
    }
  }

  /** Releases our fds. Pins and attachments stay: the data plane keeps running. */
  close(): void {
    if (this.obj) {
      libbpf.closeObject(this.obj);
      this.obj = null;
    }
  }

  /** Removes the pins (all flows and tables go once nothing else holds them) and closes. */
  uninstall(): void {
    this.close();
    if (this.pinDir) removePins(this.pinDir);
  }
}

/** Deletes a pin directory made by loadForwarder (only our map names and the directory). */
export function removePins(pinDir: string): void {
  if (!existsSync(pinDir)) return;
  for (const name of MAP_NAMES) {
    const path = join(pinDir, name);
    if (existsSync(path)) unlinkSync(path);
  }
  if (readdirSync(pinDir).length === 0) rmdirSync(pinDir);
}

const BPF_FS_MAGIC = 0xcafe4a11;

/**
 * Pins need a bpffs. Checked up front because `ip netns exec` remounts /sys
 * without /sys/fs/bpf, and creating directories on that sysfs fails in
 * unhelpful ways (Node's recursive mkdir even spins on it).
 */
function assertOnBpffs(pinDir: string): void {
  let dir = resolve(pinDir);
  while (!existsSync(dir)) dir = dirname(dir);
  if (statfsSync(dir).type !== BPF_FS_MAGIC) {
    throw new DsrError(
      'E_BPF_PIN',
      `${pinDir} is not on a bpffs (${dir} is not one): mount one (mount -t bpf bpf DIR) or choose a pin ` +
        'directory on one; inside `ip netns exec`, /sys is remounted without /sys/fs/bpf',
      { pinDir, checked: dir },
    );
  }
}

/** The kernel adds BPF_F_RDONLY_PROG to every devmap it creates (kernel/bpf/devmap.c). */
const BPF_F_RDONLY_PROG = 1 << 7;

/**
 * Opens a pinned map after checking that its shape is what this load would create; returns its fd,
 * or null when it is of another shape and may be replaced (REPLACEABLE). Any other mismatch is a
 * clear error, never a silent reset.
 */
function openPinned(name: MapName, path: string, want: ReturnType<typeof libbpf.mapDef>): number | null {
  const fd = libbpf.objGet(path);
  if (fd < 0)
    throw new DsrError('E_BPF_PIN', `opening pinned map ${path} failed: ${errnoText(-fd)}`, { path });
  try {
    const have = libbpf.mapInfo(fd);
    const diffs: string[] = [];
    if (have.type !== want.type) diffs.push(`type ${have.type} vs ${want.type}`);
    if (have.keySize !== want.keySize) diffs.push(`key size ${have.keySize} vs ${want.keySize}`);
    if (have.valueSize !== want.valueSize) diffs.push(`value size ${have.valueSize} vs ${want.valueSize}`);
    if (have.maxEntries !== want.maxEntries)
      diffs.push(`max entries ${have.maxEntries} vs ${want.maxEntries}`);
    if ((have.flags & ~BPF_F_RDONLY_PROG) !== (want.flags & ~BPF_F_RDONLY_PROG)) {
      diffs.push(`flags 0x${have.flags.toString(16)} vs 0x${want.flags.toString(16)}`);
    }
    if (diffs.length > 0 && REPLACEABLE.has(name)) {
      libbpf.closeFd(fd);
      return null;
    }
    if (diffs.length > 0) {
      throw new DsrError(
        'E_BPF_PIN',
        `pinned map ${name} at ${path} differs from this configuration (${diffs.join(', ')}): ` +
          'restore the previous sizes, or uninstall the pins (drops every flow) to start afresh',
        { name, path, diffs },
      );
    }
    return fd;
  } catch (e) {
    libbpf.closeFd(fd);
    throw e;
  }
}

export function loadForwarder(opts: LoadOptions = {}): LoadedForwarder {
  const objectPath = opts.objectPath ?? DEFAULT_OBJECT_PATH;
  const pinDir = opts.pinDir ?? null;
  const sizes: Partial<Record<MapName, number | undefined>> = {
    conns4: sized('connEntries', opts.connEntries, 1024, 1 << 27),
    conns6: sized('conn6Entries', opts.conn6Entries ?? opts.connEntries, 1024, 1 << 27),
    persist: sized('persistEntries', opts.persistEntries, 1024, 1 << 26),
    frags: sized('fragEntries', opts.fragEntries, 64, 1 << 24),
    events: sized('eventsBytes', opts.eventsBytes, 4096, 1 << 30),
  };
  if (sizes.events !== undefined && (sizes.events & (sizes.events - 1)) !== 0) {
    throw new DsrError('E_BPF_LOAD', `eventsBytes must be a power of two, got ${sizes.events}`, {});
  }

  const obj = libbpf.openObject(objectPath);
  try {
    const found = new Map(libbpf.maps(obj).map((m) => [m.name, m.map]));
    const restored: MapName[] = [];
    const replaced: MapName[] = [];
    if (pinDir) {
      assertOnBpffs(pinDir);
      mkdirSync(pinDir, { recursive: true });
    }
    // Pins are reused by hand (bpf_map__reuse_fd) rather than through libbpf's
    // pin_path: libbpf 1.1 compares map flags and so never reuses a devmap.
    for (const name of MAP_NAMES) {
      const map = found.get(name);
      if (!map) throw new DsrError('E_BPF_LOAD', `the BPF object has no map ${name}`, { objectPath, name });
      const n = sizes[name];
      if (n !== undefined) libbpf.setMaxEntries(map, name, n);
      if (!pinDir || !existsSync(join(pinDir, name))) continue;
      const fd = openPinned(name, join(pinDir, name), libbpf.mapDef(map));
      if (fd === null) {
        unlinkSync(join(pinDir, name)); // pinned anew after the load
        replaced.push(name);
        continue;
      }
      try {
        libbpf.reuseFd(map, name, fd);
      } finally {
        libbpf.closeFd(fd); // libbpf keeps its own duplicate
      }
      restored.push(name);
    }

    const rc = libbpf.loadObject(obj);
    if (rc < 0) {
      throw new DsrError(
        'E_BPF_LOAD',
        `loading ${objectPath} failed: ${errnoText(-rc)} (the verifier log is on stderr)`,
        { objectPath, errno: -rc },
      );
    }
    const progFd = libbpf.programFd(obj, PROGRAM_NAME);
    const maps = {} as Record<MapName, BpfMap>;
    for (const name of MAP_NAMES) {
      maps[name] = new BpfMap(name, libbpf.mapFd(found.get(name), name), { perCpu: PER_CPU.has(name) });
      if (pinDir && !restored.includes(name)) libbpf.objPin(maps[name].fd, join(pinDir, name));
    }
    // A fresh config entry is all zeros (every flow would expire at once): seed the defaults.
    const cfg = maps.config.lookup(u32Key(0));
    if (cfg && decodeConfig(cfg).tcpEstTimeoutNs === 0n) {
      maps.config.update(u32Key(0), encodeConfig(toForwarderConfig(DEFAULT_SETTINGS)));
    }
    return new LoadedForwarder(obj, progFd, maps, pinDir, { restored, replaced });
  } catch (e) {
    libbpf.closeObject(obj);
    throw e;
  }
}
