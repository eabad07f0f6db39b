/**
 * FrameBuilder: writes well-formed frames into one reusable scratch buffer, with correct IPv4
 * header checksums and TCP/UDP/ICMP checksums (pseudo-headers included). Used by the synth
 * scenarios, tests and benches; builds one frame at a time and allocates nothing per frame.
 *
 * Each `write*` method takes the offset to write at and returns the offset after what it wrote,
 * so frames are composed outside-in: eth -> ip -> l4 -> payload, then `finish*` methods fill in
 * lengths and checksums once the payload size is known.
 */
import { checksum, checksumFold, checksumPartial, pseudoHeaderSum4, pseudoHeaderSum6 } from '../base/checksum.js';

export class FrameBuilder {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(size: number = 9216) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Ethernet header with optional 802.1Q tags (outer first); returns the offset after it. */
  ethernet(o: number, dst: Uint8Array, src: Uint8Array, type: number, vlans: readonly number[] = [], tpid: number = 0x8100): number {
    this.bytes.set(dst, o);
    this.bytes.set(src, o + 6);
    let p = o + 12;
    for (let t = 0; t < vlans.length; t++) {
      this.view.setUint16(p, t === 0 && vlans.length > 1 ? 0x88a8 : tpid);
      this.view.setUint16(p + 2, vlans[t]! & 0x0fff);
      p += 4;
    }
    this.view.setUint16(p, type);
    return p + 2;
  }

  /** IPv4 header (20 bytes) with total length and checksum for `payloadSize`. */
  ipv4(o: number, src: number, dst: number, protocol: number, payloadSize: number, ttl: number = 64, id: number = 0, flagsFragment: number = 0x4000): number {
    const v = this.view;
    v.setUint8(o, 0x45);
    v.setUint8(o + 1, 0);
    v.setUint16(o + 2, 20 + payloadSize);
    v.setUint16(o + 4, id & 0xffff);
    v.setUint16(o + 6, flagsFragment);
    v.setUint8(o + 8, ttl);
    v.setUint8(o + 9, protocol);
    v.setUint16(o + 10, 0);
    v.setUint32(o + 12, src >>> 0);
    v.setUint32(o + 16, dst >>> 0);
    v.setUint16(o + 10, checksum(this.bytes, o, 20));
    return o + 20;
  }

  /** IPv6 header (40 bytes); addresses as 16-byte arrays. */
  ipv6(o: number, src: Uint8Array, dst: Uint8Array, nextHeader: number, payloadSize: number, hopLimit: number = 64): number {
    const v = this.view;
    v.setUint32(o, 0x60000000);
    v.setUint16(o + 4, payloadSize);
    v.setUint8(o + 6, nextHeader);
    v.setUint8(o + 7, hopLimit);
    this.bytes.set(src, o + 8);
    this.bytes.set(dst, o + 24);
    return o + 40;
  }

  /** TCP header (20 bytes, no options); checksum filled by finishL4. */
  tcp(o: number, sport: number, dport: number, seq: number, ack: number, flags: number, window: number = 65535): number {
    const v = this.view;
    v.setUint16(o, sport);
    v.setUint16(o + 2, dport);
    v.setUint32(o + 4, seq >>> 0);
    v.setUint32(o + 8, ack >>> 0);
    v.setUint8(o + 12, 5 << 4);
    v.setUint8(o + 13, flags);
    v.setUint16(o + 14, window);
    v.setUint16(o + 16, 0);
    v.setUint16(o + 18, 0);
    return o + 20;
  }

  /** UDP header (8 bytes) for `payloadSize` bytes of payload; checksum filled by finishL4. */
  udp(o: number, sport: number, dport: number, payloadSize: number): number {
    const v = this.view;
    v.setUint16(o, sport);
    v.setUint16(o + 2, dport);
    v.setUint16(o + 4, 8 + payloadSize);
    v.setUint16(o + 6, 0);
    return o + 8;
  }

  /** ICMP/ICMPv6 echo header (8 bytes); checksum filled by finishIcmp4 / finishL4 (v6). */
  icmpEcho(o: number, type: number, id: number, seq: number): number {
    const v = this.view;
    v.setUint8(o, type);
    v.setUint8(o + 1, 0);
    v.setUint16(o + 2, 0);
    v.setUint16(o + 4, id);
    v.setUint16(o + 6, seq);
    return o + 8;
  }

  /** VXLAN header (8 bytes) with the I flag. */
  vxlan(o: number, vni: number): number {
    const v = this.view;
    v.setUint32(o, 0x08000000);
    v.setUint32(o + 4, (vni & 0xffffff) << 8);
    return o + 8;
  }

  /** ARP for Ethernet/IPv4 (28 bytes). */
  arp(o: number, op: number, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): number {
    const v = this.view;
    v.setUint16(o, 1);
    v.setUint16(o + 2, 0x0800);
    v.setUint8(o + 4, 6);
    v.setUint8(o + 5, 4);
    v.setUint16(o + 6, op);
    this.bytes.set(sha, o + 8);
    v.setUint32(o + 14, spa >>> 0);
    this.bytes.set(tha, o + 18);
    v.setUint32(o + 24, tpa >>> 0);
    return o + 28;
  }

  /** Fill `size` payload bytes with a deterministic pattern (or the given text). */
  payload(o: number, size: number, seed: number = 0, text?: string): number {
    if (text !== undefined) {
      for (let i = 0; i < size; i++) this.bytes[o + i] = i < text.length ? text.charCodeAt(i) & 0xff : 0;
    } else {
      for (let i = 0; i < size; i++) this.bytes[o + i] = (seed + i * 31) & 0xff;
    }
    return o + size;
  }

  /**
   * TCP/UDP (and ICMPv6) checksum over [l4, end) with the pseudo-header of the IP header at `l3`
   * (v4 or v6 by its version nibble). `field` is the checksum's offset within the L4 header.
   */
  finishL4(l3: number, l4: number, end: number, protocol: number): void {
    const size = end - l4;
    const field = protocol === 6 ? 16 : protocol === 17 ? 6 : 2;
    this.view.setUint16(l4 + field, 0);
    const sum =
      this.bytes[l3]! >>> 4 === 4
        ? pseudoHeaderSum4(this.view.getUint32(l3 + 12), this.view.getUint32(l3 + 16), protocol, size)
        : pseudoHeaderSum6(this.bytes, l3 + 8, l3 + 24, protocol, size);
    let c = checksumFold(checksumPartial(this.bytes, l4, size, sum));
    if (protocol === 17 && c === 0) c = 0xffff; // UDP: 0 means "no checksum"
    this.view.setUint16(l4 + field, c);
  }

  /** ICMPv4 checksum (no pseudo-header). */
  finishIcmp4(l4: number, end: number): void {
    this.view.setUint16(l4 + 2, 0);
    this.view.setUint16(l4 + 2, checksum(this.bytes, l4, end - l4));
  }
}

/** A MAC address from six numbers. */
export function mac(a: number, b: number, c: number, d: number, e: number, f: number): Uint8Array {
  return Uint8Array.from([a, b, c, d, e, f]);
}

/** An IPv4 address from four octets, as a u32. */
export function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** An IPv6 address from eight 16-bit groups. */
export function ip6(...groups: number[]): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (groups[i] ?? 0) >>> 8;
    out[2 * i + 1] = (groups[i] ?? 0) & 0xff;
  }
  return out;
}
