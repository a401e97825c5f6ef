/**
 * Builds the health part's input from the daemon's Config. The config has already applied its
 * defaults and resolved named checks, so this is a plain mapping; the one I/O is reading an https
 * check's CA file (injectable for tests), done here so a reload with an unreadable CA fails before
 * anything changes.
 *
 * Real servers are identified by their address: that is how the config names them, how the
 * forwarder programs them, and what an operator passes to `dsrctl drain`.
 */
import { readFileSync } from 'node:fs';
import type { Config, HealthCheck, ServiceConfig } from '../config/index.ts';
import { DsrError } from '../core/errors.ts';
import type { CheckSpec } from './check-spec.ts';
import type { HealthServiceSpec, HealthSpec } from './health-spec.ts';

export type TextFileReader = (path: string) => string;

const RCODES: Record<string, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};

const readText: TextFileReader = (path) => readFileSync(path, 'utf8');

export function checkSpecFromConfig(c: HealthCheck, read: TextFileReader = readText): CheckSpec {
  const timing = { intervalMs: c.intervalMs, timeoutMs: c.timeoutMs, rise: c.rise, fall: c.fall };
  switch (c.kind) {
    case 'tcp':
      return { kind: 'tcp', ...timing, ...(c.port === null ? {} : { port: c.port }) };
    case 'http':
    case 'https': {
      let tlsCa: string | undefined;
      if (c.kind === 'https' && c.caFile !== null) {
        try {
          tlsCa = read(c.caFile);
        } catch (err) {
          throw new DsrError(
            'E_CONFIG_READ',
            `cannot read the CA file ${c.caFile} of an https check`,
            { file: c.caFile },
            err,
          );
        }
      }
      return {
        kind: c.kind,
        ...timing,
        ...(c.port === null ? {} : { port: c.port }),
        method: c.method,
        path: c.path,
        ...(c.host === null ? {} : { host: c.host }),
        ...(c.sni === null ? {} : { sni: c.sni }),
        expectStatus: [c.expectStatus.min, c.expectStatus.max],
        ...(c.bodyRegex === null ? {} : { bodyRegex: c.bodyRegex }),
        ...(c.kind === 'https' ? { tlsSkipVerify: !c.tlsVerify } : {}),
        ...(tlsCa === undefined ? {} : { tlsCa }),
      };
    }
    case 'udp':
      return {
        kind: 'udp',
        ...timing,
        ...(c.port === null ? {} : { port: c.port }),
        payloadHex: c.sendHex,
        ...(c.expectRegex === null ? {} : { expectRegex: c.expectRegex }),
      };
    case 'dns':
      return {
        kind: 'dns',
        ...timing,
        port: c.port,
        name: c.query,
        qtype: c.type,
        expectRcodes: [RCODES[c.expectRcode]],
      };
    case 'exec':
      return { kind: 'exec', ...timing, argv: [...c.command] };
  }
}

export function serviceSpecFromConfig(s: ServiceConfig, read: TextFileReader = readText): HealthServiceSpec {
  return {
    name: s.name,
    port: s.port,
    minHealthy: s.minHealthy,
    sorryServer: s.sorryServer,
    drainTimeoutMs: Math.round(s.drain.timeoutS * 1000),
    drainStopsPersistence: s.persistence !== null && !s.drain.keepPersistence,
    realServers: s.realServers.map((rs) => ({
      id: rs.address,
      address: rs.address,
      weight: rs.weight,
      checks: rs.healthCheck === null ? [] : [checkSpecFromConfig(rs.healthCheck, read)],
    })),
  };
}

export function healthSpecFromConfig(config: Config, read: TextFileReader = readText): HealthSpec {
  return { services: config.services.map((s) => serviceSpecFromConfig(s, read)) };
}
