/**
 * Composite actions: what the slow path decided for a flow, cached by id in the unified flow table
 * (the composite header transposition of every layer on the path, as the VFP paper caches it per
 * unified flow, plus the switch's
 * egress). The fast path reads only the typed-array columns.
 *
 * Interning. The slow path describes a composite in a small Int32Array (`CompositeFields`: the
 * COMP_* slots below) plus its decision words: one per layer that decided on the way, the id of
 * the decision's text in `DecisionTexts` ("web OUT ACL_ENDPOINT_LAYER: web-no-smtp block"), which
 * the engine looks up once per policy generation and (port, layer, direction, rule). The same
 * fields and decisions always get the same id, found through a hash of the words with no
 * allocation; only a new composite makes its strings (pcapng comment, trace text), through the
 * `CompositeDescriber` the caller passes. A composite carries no policy generation (the flow
 * entry does): the same decision under a new generation is the same composite, so policy updates
 * do not grow the table. It stays as small as the number of distinct decisions (bounded by rules
 * x ports, not by flows or updates), and the cost of a new flow does not include building text.
 *
 * Per-flow parameters (a NAT port, an LB backend, a tunnel) are not in a composite: they live in
 * the flow table's state words by handle (flow/table.ts `states`), and a composite's `perFlow`
 * bits say which of them the rewrite applies (none yet: the NAT and load-balancer issues add
 * them).
 *
 * Columns (index = composite id):
 *   verdicts     0 = forward, else the DropReasonId of the drop
 *   egress       output port id (-1 for drops)
 *   vlanOps      VLAN_OP_*: none, push `vlanIds`, pop the outer tag
 *   macOps       MAC_OP_* bits: rewrite source / destination MAC to the values below
 *   reverse      1 for the reverse entry of a flow pair (admitted by the flow, not by rules)
 *   rewrites     REWRITE_* bits of a static address/port rewrite (NAT), with newSrc/newDst (4
 *                words each) and newSport/newDport; mssDeltas (TCP MSS clamp of SYNs); meters
 *                (a bit per meter that counts the frame)
 *
 * The destination MAC a flow was decided for is not part of the composite (that would make one
 * composite per MAC): the engine keeps a digest of it in the flow entry's user word.
 */
export const VLAN_OP_NONE = 0;
export const VLAN_OP_PUSH = 1;
export const VLAN_OP_POP = 2;

export const MAC_OP_SRC = 1;
export const MAC_OP_DST = 2;

/** Slots of a composite's fields (an Int32Array of COMP_FIELDS). */
export const COMP_VERDICT = 0;
export const COMP_EGRESS = 1;
export const COMP_VLAN_OP = 2;
export const COMP_VLAN_ID = 3;
export const COMP_MAC_OPS = 4;
export const COMP_SRC_MAC_HI = 5;
export const COMP_SRC_MAC_LO = 6;
export const COMP_DST_MAC_HI = 7;
export const COMP_DST_MAC_LO = 8;
export const COMP_REVERSE = 9;
/** Context of the description: the forward composite of a reverse one, or a NOTE_* for switch drops. */
export const COMP_NOTE = 10;
/** PERFLOW_* bits: which per-flow parameters (flow table state words) the rewrite applies. */
export const COMP_PER_FLOW = 11;
/** REWRITE_* bits: which of the address/port fields below a rewrite (NAT) action sets. */
export const COMP_REWRITE = 12;
/** New source / destination address: four words each (IPv4 in the first). */
export const COMP_NEW_SRC = 13;
export const COMP_NEW_DST = 17;
export const COMP_NEW_SPORT = 21;
export const COMP_NEW_DPORT = 22;
/** TCP MSS clamp: bytes taken off the MSS option of SYNs (0 = none). */
export const COMP_MSS_DELTA = 23;
/** Bit m set: meter m counts the frame (policy.meters[m]). */
export const COMP_METERS = 24;
export const COMP_FIELDS = 25;

export const REWRITE_SRC_ADDR = 1;
export const REWRITE_DST_ADDR = 2;
export const REWRITE_SRC_PORT = 4;
export const REWRITE_DST_PORT = 8;

export const NOTE_NONE = 0;
export const NOTE_SWITCH = 1; // the switch dropped it (reason in COMP_VERDICT)
export const NOTE_TABLE_FULL = 2;
export const NOTE_NO_FLOOD_PORT = 3;

/** Makes the strings of a new composite (called once per distinct composite). */
export interface CompositeDescriber {
  describeComposite(fields: Int32Array, decisions: Int32Array, decisionCount: number): string[];
}

/** What the trace and the dumps know about a composite. */
export interface CompositeSpec {
  verdict: number;
  egress: number;
  vlanOp: number;
  vlanId: number;
  macOps: number;
  reverse: boolean;
  /** Human summary of who decided, e.g. `web OUT HOST_FIREWALL: FW_OUT_ALLOW_ALL_IPV4 allow stateful`. */
  decisions: string[];
}

/**
 * The texts of decisions (a layer's rule or default, as composites and traces show them), each
 * with a small id that stays the same across policy generations: composites are interned by
 * these ids, so an unchanged rule in a new generation gives the same composite.
 */
export class DecisionTexts {
  readonly texts: string[] = [];
  private readonly ids = new Map<string, number>();

  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.texts.length;
      this.texts.push(text);
      this.ids.set(text, id);
    }
    return id;
  }

  get size(): number {
    return this.texts.length;
  }
}

export class CompositeTable {
  size = 0;
  verdicts: Uint8Array = new Uint8Array(64);
  egress: Int32Array = new Int32Array(64);
  vlanOps: Uint8Array = new Uint8Array(64);
  vlanIds: Uint16Array = new Uint16Array(64);
  macOps: Uint8Array = new Uint8Array(64);
  srcMacHi: Uint32Array = new Uint32Array(64);
  srcMacLo: Uint32Array = new Uint32Array(64);
  dstMacHi: Uint32Array = new Uint32Array(64);
  dstMacLo: Uint32Array = new Uint32Array(64);
  reverse: Uint8Array = new Uint8Array(64);
  /** REWRITE_* bits, the new addresses (4 words each) and ports, the MSS delta and the meter mask. */
  rewrites: Uint8Array = new Uint8Array(64);
  newSrc: Uint32Array = new Uint32Array(64 * 4);
  newDst: Uint32Array = new Uint32Array(64 * 4);
  newSport: Uint16Array = new Uint16Array(64);
  newDport: Uint16Array = new Uint16Array(64);
  mssDeltas: Uint16Array = new Uint16Array(64);
  meters: Uint32Array = new Uint32Array(64);
  perFlow: Uint8Array = new Uint8Array(64);
  /** 1 when the composite forwards with no transposition and no meter (the tx fast path). */
  plain: Uint8Array = new Uint8Array(64);
  /** The spec each id was made from (trace, comments). */
  readonly specs: CompositeSpec[] = [];
  /** pcapng comment text. */
  readonly comments: string[] = [];
  // interning: all fields and decision words of each composite, chained by hash
  private fields: Int32Array = new Int32Array(64 * COMP_FIELDS);
  private decStart: Int32Array = new Int32Array(64);
  private decLength: Int32Array = new Int32Array(64);
  private decPool: Int32Array = new Int32Array(1024);
  private decUsed = 0;
  private nextSame: Int32Array = new Int32Array(64);
  private readonly firstByHash = new Map<number, number>();
  private readonly portNames: readonly string[];

  constructor(portNames: readonly string[]) {
    this.portNames = portNames;
  }

  /** The id of the composite with these fields and decisions, made (and described) if new. */
  intern(f: Int32Array, dec: Int32Array, decCount: number, describer: CompositeDescriber): number {
    // New flows of one kind come in runs: the last two answers are checked before hashing.
    const a = this.recentA;
    if (a >= 0 && this.same(a, f, dec, decCount)) return a;
    const b = this.recentB;
    if (b >= 0 && this.same(b, f, dec, decCount)) {
      this.recentB = a;
      this.recentA = b;
      return b;
    }
    const id = this.lookup(f, dec, decCount, describer);
    this.recentB = a;
    this.recentA = id;
    return id;
  }

  private recentA = -1;
  private recentB = -1;

  private lookup(f: Int32Array, dec: Int32Array, decCount: number, describer: CompositeDescriber): number {
    let h = 0x811c9dc5 | 0;
    for (let j = 0; j < COMP_FIELDS; j++) h = Math.imul(h ^ f[j]!, 0x01000193);
    for (let j = 0; j < decCount; j++) h = Math.imul(h ^ dec[j]!, 0x01000193);
    h = (h ^ (h >>> 15)) | 0;
    const first = this.firstByHash.get(h);
    for (let id = first ?? -1; id >= 0; id = this.nextSame[id]!) if (this.same(id, f, dec, decCount)) return id;
    return this.add(h, first ?? -1, f, dec, decCount, describer);
  }

  private same(id: number, f: Int32Array, dec: Int32Array, decCount: number): boolean {
    const b = id * COMP_FIELDS;
    for (let j = 0; j < COMP_FIELDS; j++) if (this.fields[b + j] !== f[j]) return false;
    if (this.decLength[id] !== decCount) return false;
    const s = this.decStart[id]!;
    for (let j = 0; j < decCount; j++) if (this.decPool[s + j] !== dec[j]) return false;
    return true;
  }

  private add(h: number, first: number, f: Int32Array, dec: Int32Array, decCount: number, describer: CompositeDescriber): number {
    const id = this.size++;
    if (id >= this.verdicts.length) this.grow();
    this.fields.set(f.subarray(0, COMP_FIELDS), id * COMP_FIELDS);
    if (this.decUsed + decCount > this.decPool.length) this.decPool = grown(this.decPool, new Int32Array(Math.max(this.decPool.length * 2, this.decUsed + decCount)));
    this.decPool.set(dec.subarray(0, decCount), this.decUsed);
    this.decStart[id] = this.decUsed;
    this.decLength[id] = decCount;
    this.decUsed += decCount;
    this.nextSame[id] = first;
    this.firstByHash.set(h, id);
    this.verdicts[id] = f[COMP_VERDICT]!;
    this.egress[id] = f[COMP_EGRESS]!;
    this.vlanOps[id] = f[COMP_VLAN_OP]!;
    this.vlanIds[id] = f[COMP_VLAN_ID]!;
    this.macOps[id] = f[COMP_MAC_OPS]!;
    this.srcMacHi[id] = f[COMP_SRC_MAC_HI]! >>> 0;
    this.srcMacLo[id] = f[COMP_SRC_MAC_LO]! >>> 0;
    this.dstMacHi[id] = f[COMP_DST_MAC_HI]! >>> 0;
    this.dstMacLo[id] = f[COMP_DST_MAC_LO]! >>> 0;
    this.reverse[id] = f[COMP_REVERSE]!;
    this.rewrites[id] = f[COMP_REWRITE]!;
    for (let w = 0; w < 4; w++) {
      this.newSrc[id * 4 + w] = f[COMP_NEW_SRC + w]! >>> 0;
      this.newDst[id * 4 + w] = f[COMP_NEW_DST + w]! >>> 0;
    }
    this.newSport[id] = f[COMP_NEW_SPORT]!;
    this.newDport[id] = f[COMP_NEW_DPORT]!;
    this.mssDeltas[id] = f[COMP_MSS_DELTA]!;
    this.meters[id] = f[COMP_METERS]! >>> 0;
    this.perFlow[id] = f[COMP_PER_FLOW]!;
    this.plain[id] =
      f[COMP_VERDICT] === 0 && f[COMP_VLAN_OP] === VLAN_OP_NONE && f[COMP_MAC_OPS] === 0 && f[COMP_REWRITE] === 0 && f[COMP_MSS_DELTA] === 0 && f[COMP_METERS] === 0 && f[COMP_PER_FLOW] === 0 ? 1 : 0;
    const decisions = describer.describeComposite(f, dec, decCount);
    this.specs.push({
      verdict: f[COMP_VERDICT]!,
      egress: f[COMP_EGRESS]!,
      vlanOp: f[COMP_VLAN_OP]!,
      vlanId: f[COMP_VLAN_ID]!,
      macOps: f[COMP_MAC_OPS]!,
      reverse: f[COMP_REVERSE] === 1,
      decisions,
    });
    this.comments.push(decisions.join('; '));
    return id;
  }

  private grow(): void {
    const n = this.verdicts.length * 2;
    this.verdicts = grown(this.verdicts, new Uint8Array(n));
    this.egress = grown(this.egress, new Int32Array(n));
    this.vlanOps = grown(this.vlanOps, new Uint8Array(n));
    this.vlanIds = grown(this.vlanIds, new Uint16Array(n));
    this.macOps = grown(this.macOps, new Uint8Array(n));
    this.srcMacHi = grown(this.srcMacHi, new Uint32Array(n));
    this.srcMacLo = grown(this.srcMacLo, new Uint32Array(n));
    this.dstMacHi = grown(this.dstMacHi, new Uint32Array(n));
    this.dstMacLo = grown(this.dstMacLo, new Uint32Array(n));
    this.reverse = grown(this.reverse, new Uint8Array(n));
    this.rewrites = grown(this.rewrites, new Uint8Array(n));
    this.newSrc = grown(this.newSrc, new Uint32Array(n * 4));
    this.newDst = grown(this.newDst, new Uint32Array(n * 4));
    this.newSport = grown(this.newSport, new Uint16Array(n));
    this.newDport = grown(this.newDport, new Uint16Array(n));
    this.mssDeltas = grown(this.mssDeltas, new Uint16Array(n));
    this.meters = grown(this.meters, new Uint32Array(n));
    this.perFlow = grown(this.perFlow, new Uint8Array(n));
    this.plain = grown(this.plain, new Uint8Array(n));
    this.fields = grown(this.fields, new Int32Array(n * COMP_FIELDS));
    this.decStart = grown(this.decStart, new Int32Array(n));
    this.decLength = grown(this.decLength, new Int32Array(n));
    this.nextSame = grown(this.nextSame, new Int32Array(n));
  }

  egressName(id: number): string {
    const e = this.egress[id]!;
    return e >= 0 ? (this.portNames[e] ?? String(e)) : '-';
  }
}

function grown<T extends Uint8Array | Uint16Array | Int32Array | Uint32Array>(old: T, bigger: T): T {
  bigger.set(old as never);
  return bigger;
}
