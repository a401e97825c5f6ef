/**
 * The UDP payloads of a capture (`tcpdump -w`, Ethernet link type), in order with their capture
 * times: what the replay of a recorded advert stream sends again (replay-capture.ts). Pure; a
 * record that is not Ethernet/IPv4/UDP is skipped. Format: pcap-savefile(5).
 */

export interface CapturedDatagram {
  /** Capture time, ms from the first record. */
  readonly atMs: number;
  readonly payload: Buffer;
}

const LINKTYPE_ETHERNET = 1;

export function udpPayloads(file: Buffer): CapturedDatagram[] {
  if (file.length < 24) throw new Error('not a pcap file: shorter than its header');
  const magic = file.readUInt32LE(0);
  // Microsecond or nanosecond timestamps, little-endian as tcpdump writes them on this machine.
  const tsDivisor = magic === 0xa1b2c3d4 ? 1000 : magic === 0xa1b23c4d ? 1e6 : 0;
  if (tsDivisor === 0) throw new Error(`not a little-endian pcap file (magic ${magic.toString(16)})`);
  if (file.readUInt32LE(20) !== LINKTYPE_ETHERNET) throw new Error('not an Ethernet capture');
  const out: CapturedDatagram[] = [];
  let first: number | undefined;
  for (let at = 24; at + 16 <= file.length; ) {
    const ms = file.readUInt32LE(at) * 1000 + file.readUInt32LE(at + 4) / tsDivisor;
    const caplen = file.readUInt32LE(at + 8);
    const frame = file.subarray(at + 16, Math.min(file.length, at + 16 + caplen));
    at += 16 + caplen;
    first ??= ms;
    if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (frame[14] & 0x0f) * 4;
    if (frame[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    const end = Math.min(frame.length, udp + frame.readUInt16BE(udp + 4));
    out.push({ atMs: ms - first, payload: Buffer.from(frame.subarray(udp + 8, end)) });
  }
  return out;
}
