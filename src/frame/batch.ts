/**
 * FrameBatch: a vector of frames as offsets into one byte slab, plus struct-of-arrays metadata.
 *
 * Data layout. `data` is the slab (a Uint8Array view; it may be a reader's chunk buffer, a
 * memory-resident capture or a ring arena: the batch never owns it) and `view` a DataView over
 * the same bytes. Frame i occupies data[offsets[i], offsets[i] + lengths[i]). All offsets in the
 * columns below are absolute indices into `data`, so no stage needs to add a base.
 *
 * Lifetime. Frames are valid until the producer refills the batch (the next `read()`); a stage
 * that must keep a frame longer copies it.
 *
 * Invariants. `count <= capacity`. Columns are preallocated once; filling a batch allocates
 * nothing. A column value of -1 in an offset column means "absent". `parse/` writes the parse
 * columns; later stages read them and never re-parse.
 *
 * Thread ownership. A batch belongs to one thread at a time.
 */

/**
 * Flow key layout (u32 words per frame in `keys`). Bump FLOW_KEY_LAYOUT_VERSION whenever a word
 * changes meaning: a test pins the layout to the version, the way OVS guards FLOW_WC_SEQ.
 *
 *  w0..w3   source address: IPv4 in w0 (w1..w3 zero); IPv6 as four big-endian words;
 *           ARP: sender protocol address in w0; other ethertypes: zero
 *  w4..w7   destination address, same rules (ARP: target protocol address)
 *  w8       (source port << 16) | destination port; ICMP/ICMPv6 echo: (type << 8 | code) << 16 | identifier;
 *           other ICMP: (type << 8 | code) << 16; no L4: 0
 *  w9       (l3 kind << 24) | (protocol << 16) | (VLAN id of the innermost tag, 0 when untagged)
 *           l3 kind: L3_KIND_* below; protocol: IP upper-layer protocol (after IPv6 extensions),
 *           ARP opcode for ARP, 0 otherwise
 *  w10      VXLAN VNI (24 bits) when the key describes the inner frame of a VXLAN packet, else 0;
 *           bit 31 set when the frame was VXLAN-encapsulated
 *  w11      ethertype of the (inner) frame in the low 16 bits; high 16 bits: engine port id,
 *           written by the pipeline (0 from parse)
 *
 * For VXLAN-encapsulated frames the key describes the inner frame (what policy matches on); the
 * outer headers stay reachable through the outer offset columns.
 */
export const FLOW_KEY_WORDS = 12;
export const FLOW_KEY_LAYOUT_VERSION = 1;

/** Word offsets within a key (the layout above): use these, never a bare `keys[k + 9]`. */
export const KEY_SRC = 0; // four words
export const KEY_DST = 4; // four words
export const KEY_PORTS = 8; // (sport << 16) | dport; ICMP: (type << 8 | code) << 16 | id
export const KEY_PROTO = 9; // (l3 kind << 24) | (protocol << 16) | VLAN id
export const KEY_VNI = 10; // VNI | bit 31 when VXLAN-encapsulated
export const KEY_PORT_ETHERTYPE = 11; // (engine port << 16) | ethertype

/** The fields packed in KEY_PROTO and KEY_PORT_ETHERTYPE. */
export function keyKind(w: number): number {
  return w >>> 24;
}
export function keyProtocol(w: number): number {
  return (w >>> 16) & 0xff;
}
export function keyVlan(w: number): number {
  return w & 0x0fff;
}
export function keyPort(w: number): number {
  return w >>> 16;
}
/** KEY_PORT_ETHERTYPE with the engine port replaced. */
export function keyWithPort(w: number, port: number): number {
  return ((w & 0xffff) | (port << 16)) >>> 0;
}

export const L3_KIND_OTHER = 0;
export const L3_KIND_ARP = 1;
export const L3_KIND_IPV4 = 4;
export const L3_KIND_IPV6 = 6;

/** Per-frame flag bits in `flags`. */
export const FRAME_FLAG_VXLAN = 1 << 0; // outer UDP carried VXLAN; inner columns are set
export const FRAME_FLAG_FRAGMENT = 1 << 1; // IPv4 MF/offset or IPv6 fragment header (of the keyed frame)
export const FRAME_FLAG_LATER_FRAGMENT = 1 << 2; // non-first fragment: no L4 header in this frame
export const FRAME_FLAG_SNAPPED = 1 << 3; // caplen < original length (headers may still be complete)
export const FRAME_FLAG_OUTER_FRAGMENT = 1 << 4; // the outer IP header of a VXLAN frame is a fragment
export const FRAME_FLAG_IPV4_OPTIONS = 1 << 5; // IPv4 header longer than 20 bytes
export const FRAME_FLAG_IPV6_EXTENSIONS = 1 << 6; // IPv6 extension headers present
export const FRAME_FLAG_BIG = 1 << 7; // IP length field 0 with a frame larger than 64 KiB (BIG TCP / jumbo)

/** Frames per batch: large enough to amortise the per-batch costs (measured: 256 -> 512 gains ~10% on the parse bench), small enough for the columns to stay in L2. */
export const DEFAULT_BATCH_CAPACITY = 512;

export class FrameBatch {
  readonly capacity: number;
  /** Number of valid frames. */
  count = 0;
  /** The slab the frames live in, and a DataView over exactly the same bytes. */
  data: Uint8Array;
  view: DataView;
  /**
   * Whether later stages may write the frames' bytes in place (a transposition that keeps the
   * length): true when the producer owns the slab and refills it anyway (a file reader's chunk
   * buffer); false (the default) for a slab the caller lent, e.g. a capture held in memory that is
   * replayed again. Set by the producer with each fill.
   */
  writable = false;

  // ---- filled by the producer (io/, synth/, ring) -------------------------------------------
  /** Start of frame i in `data`. */
  readonly offsets: Int32Array;
  /** Captured length of frame i (bytes present in `data`). */
  readonly lengths: Int32Array;
  /** Original length on the wire (>= lengths[i] unless the capture file says otherwise). */
  readonly wireLengths: Int32Array;
  /** Timestamp, whole seconds (a double: exact up to 2^53). */
  readonly timestampSeconds: Float64Array;
  /** Timestamp, nanoseconds within the second (0..999,999,999). */
  readonly timestampNanos: Uint32Array;
  /** Index of the capture interface the frame came from (pcapng IDB index; 0 for pcap). */
  readonly sources: Uint16Array;
  /** Engine port id the frame entered on (set by the pipeline). */
  readonly ports: Uint16Array;
  /** Position of the frame in its input (1-based frame number, as tshark counts). */
  readonly numbers: Float64Array;

  // ---- filled by parse/ -----------------------------------------------------------------------
  /** ParseErrorId (0 = none). */
  readonly errors: Uint8Array;
  /** FRAME_FLAG_* bits. */
  readonly flags: Uint16Array;
  /** Number of 802.1Q/802.1ad tags on the outer frame (0 when untagged). */
  readonly vlanCounts: Uint8Array;
  /** Offset of the outer frame's EtherType that follows its tags (the "final" ethertype field). */
  readonly ethTypeOffsets: Int32Array;
  /** Outer L3 header offset, -1 when absent. */
  readonly l3Offsets: Int32Array;
  /** Outer L4 header offset, -1 when absent (also for non-first fragments). */
  readonly l4Offsets: Int32Array;
  /** Inner (VXLAN payload) Ethernet offset, -1 when not encapsulated. */
  readonly innerL2Offsets: Int32Array;
  /** Inner L3/L4 offsets, -1 when absent. */
  readonly innerL3Offsets: Int32Array;
  readonly innerL4Offsets: Int32Array;
  /** Number of VLAN tags on the inner frame. */
  readonly innerVlanCounts: Uint8Array;
  /** End of the keyed frame's IP packet (from the IP length fields, clamped to caplen), -1 when no IP. */
  readonly l3Ends: Int32Array;
  /** Flow key words, FLOW_KEY_WORDS per frame (see the layout above). */
  readonly keys: Uint32Array;
  /** Symmetric flow hash: both directions of a flow hash alike. */
  readonly hashes: Uint32Array;

  // Later stages keep their per-frame columns themselves (pipeline/columns.ts), sized to the batch.

  constructor(capacity: number = DEFAULT_BATCH_CAPACITY, data: Uint8Array = new Uint8Array(0)) {
    this.capacity = capacity;
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.wireLengths = new Int32Array(capacity);
    this.timestampSeconds = new Float64Array(capacity);
    this.timestampNanos = new Uint32Array(capacity);
    this.sources = new Uint16Array(capacity);
    this.ports = new Uint16Array(capacity);
    this.numbers = new Float64Array(capacity);
    this.errors = new Uint8Array(capacity);
    this.flags = new Uint16Array(capacity);
    this.vlanCounts = new Uint8Array(capacity);
    this.ethTypeOffsets = new Int32Array(capacity);
    this.l3Offsets = new Int32Array(capacity);
    this.l4Offsets = new Int32Array(capacity);
    this.innerL2Offsets = new Int32Array(capacity);
    this.innerL3Offsets = new Int32Array(capacity);
    this.innerL4Offsets = new Int32Array(capacity);
    this.innerVlanCounts = new Uint8Array(capacity);
    this.l3Ends = new Int32Array(capacity);
    this.keys = new Uint32Array(capacity * FLOW_KEY_WORDS);
    this.hashes = new Uint32Array(capacity);
  }

  /** Point the batch at another slab. Call once per batch, not per frame. */
  setData(data: Uint8Array, view?: DataView): void {
    if (data !== this.data) {
      this.data = data;
      this.view = view ?? new DataView(data.buffer, data.byteOffset, data.byteLength);
    }
  }

  /** Forget all frames (columns are overwritten by the next fill). */
  clear(): void {
    this.count = 0;
  }
}
