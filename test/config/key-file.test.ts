/**
 * Key files (issue 26, item 7): the documented recipe `head -c 32 /dev/urandom > f` writes a binary
 * key whose last byte is 0x0a one time in 256; it must be read whole, while a text key's one
 * trailing newline (echo, openssl rand -hex, an editor) is dropped.
 */
import test from 'ava';
import { trimFinalNewline } from '../../config/files.ts';

test('a binary key ending in 0x0a is taken whole', (t) => {
  const key = Buffer.alloc(32, 0x8f);
  key[31] = 0x0a;
  t.is(trimFinalNewline(key).length, 32);
  key[30] = 0x0d; // CR LF as the last two random bytes: still binary, still whole
  t.is(trimFinalNewline(key).length, 32);
});

test('every 32-byte key with a non-text byte reads as 32 bytes, whatever its last byte', (t) => {
  for (let last = 0; last < 256; last++) {
    const key = Buffer.alloc(32, 0x41);
    key[0] = 0x00;
    key[31] = last;
    t.is(trimFinalNewline(key).length, 32, `last byte ${last}`);
  }
});

test('a text key loses its one trailing newline (LF or CR LF), and only that', (t) => {
  const text = 'a'.repeat(64);
  t.is(trimFinalNewline(Buffer.from(`${text}\n`)).toString(), text);
  t.is(trimFinalNewline(Buffer.from(`${text}\r\n`)).toString(), text);
  // Two newlines: not a one-line text file, so nothing is guessed away.
  t.is(trimFinalNewline(Buffer.from(`${text}\n\n`)).toString(), `${text}\n\n`);
  t.is(trimFinalNewline(Buffer.from(text)).toString(), text);
});
