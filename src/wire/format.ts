/**
 * Formatting of addresses for humans and JSON (not on the per-packet path: these allocate
 * strings). MACs lower-case with colons; IPv4 dotted quad; IPv6 in RFC 5952 canonical form.
 */

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(d: Uint8Array, o: number): string {
  return `${HEX2[d[o]!]}:${HEX2[d[o + 1]!]}:${HEX2[d[o + 2]!]}:${HEX2[d[o + 3]!]}:${HEX2[d[o + 4]!]}:${HEX2[d[o + 5]!]}`;
}

export function formatIPv4(d: Uint8Array, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

export function formatIPv4Word(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/**
 * RFC 5952: lower-case hex without leading zeros; the longest run of two or more zero groups is
 * replaced by `::` (the first one on a tie); a lone zero group is not compressed; IPv4-mapped
 * addresses (::ffff:a.b.c.d) keep the dotted quad (RFC 5952 §5).
 */
export function formatIPv6(d: Uint8Array, o: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((d[o + 2 * i]! << 8) | d[o + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(d, o + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** Parse "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" into 6 bytes; throws on anything else. */
export function parseMac(text: string): Uint8Array {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) throw new Error(`not a MAC address: '${text}'`);
  return Uint8Array.from(m.slice(1, 7).map((h) => parseInt(h, 16)));
}

/** Parse a dotted-quad IPv4 address into a u32; throws on anything else. */
export function parseIPv4(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error(`not an IPv4 address: '${text}'`);
  const parts = m.slice(1, 5).map(Number);
  if (parts.some((p) => p > 255)) throw new Error(`not an IPv4 address: '${text}'`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** TCP flag letters, in tcpdump's order of display: S F R P . (ack) U E W, as single letters. */
export function formatTcpFlags(flags: number): string {
  let s = '';
  if (flags & 0x80) s += 'C'; // CWR
  if (flags & 0x40) s += 'E'; // ECE
  if (flags & 0x20) s += 'U'; // URG
  if (flags & 0x10) s += 'A'; // ACK
  if (flags & 0x08) s += 'P'; // PSH
  if (flags & 0x04) s += 'R'; // RST
  if (flags & 0x02) s += 'S'; // SYN
  if (flags & 0x01) s += 'F'; // FIN
  return s;
}
