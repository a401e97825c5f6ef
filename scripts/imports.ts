/**
 * The module specifiers a TypeScript/JavaScript source names: static imports and re-exports,
 * side-effect imports, `import('...')` with a literal, and `new URL('...', import.meta.url)` (how
 * worker threads and spawned scripts are found). A small tokenizer, so that comments and the
 * contents of strings and templates never count as code.
 */

type Token = { kind: 'word' | 'string' | 'punct'; text: string };

/** Characters after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER = new Set([
  '(',
  ',',
  '=',
  ':',
  '[',
  '!',
  '&',
  '|',
  '?',
  '{',
  '}',
  ';',
  '+',
  '-',
  '*',
  '%',
  '<',
  '>',
  '~',
  '^',
]);
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
]);

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = src.length;
  const skipString = (quote: string): string => {
    let text = '';
    i++;
    while (i < n && src[i] !== quote) {
      if (src[i] === '\\') {
        text += src[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (src[i] === '\n' && quote !== '`') break;
      text += src[i++];
    }
    i++;
    return text;
  };
  const skipTemplate = (): void => {
    i++; // the backtick
    while (i < n && src[i] !== '`') {
      if (src[i] === '\\') i += 2;
      else if (src[i] === '$' && src[i + 1] === '{') {
        i += 2;
        let depth = 1;
        while (i < n && depth > 0) {
          const c = src[i];
          if (c === '{') depth++;
          else if (c === '}') depth--;
          else if (c === "'" || c === '"') {
            skipString(c);
            continue;
          } else if (c === '`') {
            skipTemplate();
            continue;
          }
          i++;
        }
      } else i++;
    }
    i++;
  };
  while (i < n) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      tokens.push({ kind: 'string', text: skipString(c) });
    } else if (c === '`') {
      skipTemplate();
      tokens.push({ kind: 'punct', text: '`' });
    } else if (c === '/') {
      const prev = tokens.at(-1);
      const regex =
        prev === undefined ||
        (prev.kind === 'punct' && REGEX_AFTER.has(prev.text)) ||
        (prev.kind === 'word' && REGEX_AFTER_WORDS.has(prev.text));
      i++;
      if (regex) {
        let inClass = false;
        while (i < n && src[i] !== '\n') {
          const d = src[i];
          if (d === '\\') i++;
          else if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
          i++;
        }
        i++;
        while (i < n && /[a-z]/.test(src[i])) i++;
        tokens.push({ kind: 'punct', text: 'regex' });
      } else tokens.push({ kind: 'punct', text: '/' });
    } else if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < n && /[\w$]/.test(src[i])) i++;
      tokens.push({ kind: 'word', text: src.slice(start, i) });
    } else if (/\s/.test(c)) {
      i++;
    } else {
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

export function findImports(src: string): string[] {
  const t = tokenize(src);
  const specs: string[] = [];
  const at = (k: number, kind: Token['kind'], text?: string): boolean =>
    t[k]?.kind === kind && (text === undefined || t[k].text === text);
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (tok.kind !== 'word') continue;
    const afterDot = at(k - 1, 'punct', '.');
    if (afterDot) continue; // x.import, x.from
    if (tok.text === 'from' && at(k + 1, 'string')) {
      specs.push(t[k + 1].text);
    } else if (tok.text === 'import' && at(k + 1, 'string')) {
      specs.push(t[k + 1].text); // side-effect import
    } else if (
      tok.text === 'import' &&
      at(k + 1, 'punct', '(') &&
      at(k + 2, 'string') &&
      at(k + 3, 'punct', ')')
    ) {
      specs.push(t[k + 2].text);
    } else if (
      tok.text === 'new' &&
      at(k + 1, 'word', 'URL') &&
      at(k + 2, 'punct', '(') &&
      at(k + 3, 'string') &&
      at(k + 4, 'punct', ',') &&
      at(k + 5, 'word', 'import') &&
      at(k + 6, 'punct', '.') &&
      at(k + 7, 'word', 'meta')
    ) {
      specs.push(t[k + 3].text);
    }
  }
  return specs;
}
