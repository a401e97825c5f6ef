/** MAC addresses: colon-separated hex as Linux prints them (`ip link`), and bytes. */
import { DsrError } from '../errors.ts';

/** Parses "02:d5:00:00:0a:01" (either case). Throws E_ADDRESS_INVALID. */
export function parseMac(text: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) {
    throw new DsrError(
      'E_ADDRESS_INVALID',
      `${JSON.stringify(text)} is not a MAC address (02:d5:00:00:0a:01)`,
      {
        value: text,
      },
    );
  }
  return Buffer.from(text.replaceAll(':', ''), 'hex');
}

/** Lower-case colon-separated hex of every byte given (link-layer addresses of other lengths too). */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
