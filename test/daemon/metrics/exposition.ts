/**
 * A small parser of the Prometheus text exposition format (version 0.0.4), for
 * tests: HELP/TYPE lines and samples with escaped label values.
 */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: ParsedSample[];
}

function parseValue(v: string): number {
  if (v === '+Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  if (v.toLowerCase() === 'nan') return Number.NaN; // prom-client writes "Nan"; Go's ParseFloat accepts any case
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`bad sample value ${v}`);
  return n;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    const name = text.slice(i, eq).trim();
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new Error(`bad label name ${name}`);
    if (text[eq + 1] !== '"') throw new Error('label value must be quoted');
    let j = eq + 2;
    let value = '';
    while (text[j] !== '"') {
      if (j >= text.length) throw new Error('unterminated label value');
      if (text[j] === '\\') {
        const c = text[j + 1];
        value += c === 'n' ? '\n' : c;
        j += 2;
      } else value += text[j++];
    }
    out[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
  }
  return out;
}

export function parseExposition(body: string): Exposition {
  const e: Exposition = { types: new Map(), help: new Map(), samples: [] };
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('# HELP ')) {
      const [name, ...rest] = line.slice(7).split(' ');
      e.help.set(name, rest.join(' '));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      e.types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    e.samples.push({ name: m[1], labels: m[3] ? parseLabels(m[3]) : {}, value: parseValue(m[4]) });
  }
  return e;
}

/** The value of the one sample with this name and exactly these labels, or undefined. */
export function sampleValue(
  e: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = e.samples.filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want,
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${want}`);
  return found[0]?.value;
}
