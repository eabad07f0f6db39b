/**
 * Composite actions: what the slow path decided for a flow, cached by id in the unified flow table
 * (spec §3.5: the composite header transposition of every layer on the path, plus the switch's
 * egress). The fast path reads only the typed-array columns; the strings (pcapng comment, trace
 * text) are built once per composite, on the slow path.
 *
 * A composite is interned: the slow path describes it in a CompositeSpec, and the same spec (same
 * verdict, egress, transposition, expected destination MAC and deciding rules) always gets the
 * same id, so the table stays as small as the number of distinct decisions (bounded by rules x
 * ports, not by flows).
 *
 * Columns (index = composite id):
 *   verdicts     0 = forward, else the DropReasonId of the drop
 *   egress       output port id (-1 for drops)
 *   vlanOps      VLAN_OP_*: none, push `vlanIds`, pop the outer tag
 *   macOps       MAC_OP_* bits: rewrite source / destination MAC to the values below
 *
 * The destination MAC a flow was decided for is not part of the composite (that would make one
 * composite per MAC): the engine keeps a hash of it in the flow entry's `userData`.
 */
export const VLAN_OP_NONE = 0;
export const VLAN_OP_PUSH = 1;
export const VLAN_OP_POP = 2;

export const MAC_OP_SRC = 1;
export const MAC_OP_DST = 2;

export interface CompositeSpec {
  verdict: number;
  egress: number;
  vlanOp: number;
  vlanId: number;
  macOps: number;
  srcMacHi: number;
  srcMacLo: number;
  dstMacHi: number;
  dstMacLo: number;
  /** Human summary: which layer/rule decided, e.g. `web OUT HOST_FIREWALL/FW_OUT_ALLOW_ALL_IPV4 allow`. */
  decisions: string[];
  /** True for the reverse entry of a flow pair (admitted by the flow, not by rules). */
  reverse: boolean;
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
  /** The spec each id was made from (trace, comments). */
  readonly specs: CompositeSpec[] = [];
  /** pcapng comment text (without the per-packet flow-cache part). */
  readonly comments: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly portNames: readonly string[];

  constructor(portNames: readonly string[]) {
    this.portNames = portNames;
  }

  intern(s: CompositeSpec): number {
    const key = `${s.verdict}|${s.egress}|${s.vlanOp}:${s.vlanId}|${s.macOps}:${s.srcMacHi}:${s.srcMacLo}:${s.dstMacHi}:${s.dstMacLo}|${s.reverse ? 1 : 0}|${s.decisions.join(';')}`;
    const found = this.ids.get(key);
    if (found !== undefined) return found;
    const id = this.size++;
    if (id >= this.verdicts.length) this.grow();
    this.verdicts[id] = s.verdict;
    this.egress[id] = s.egress;
    this.vlanOps[id] = s.vlanOp;
    this.vlanIds[id] = s.vlanId;
    this.macOps[id] = s.macOps;
    this.srcMacHi[id] = s.srcMacHi;
    this.srcMacLo[id] = s.srcMacLo;
    this.dstMacHi[id] = s.dstMacHi;
    this.dstMacLo[id] = s.dstMacLo;
    this.specs.push({ ...s, decisions: [...s.decisions] });
    this.comments.push(this.describe(s));
    this.ids.set(key, id);
    return id;
  }

  private describe(s: CompositeSpec): string {
    return s.decisions.length > 0 ? s.decisions.join('; ') : '';
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
