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
 *   dstHi/dstLo  the destination MAC the flow was decided for: a frame of the same 5-tuple with
 *                another destination MAC is not this flow (the flow key has no MACs) and takes
 *                the slow path
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
  expectDstHi: number;
  expectDstLo: number;
  /** Human summary: which layer/rule decided, e.g. `web OUT HOST_FIREWALL/FW_OUT_ALLOW_ALL_IPV4 allow`. */
  decisions: string[];
  /** True for the reverse entry of a flow pair (admitted by the flow, not by rules). */
  reverse: boolean;
}

export class CompositeTable {
  size = 0;
  verdicts = new Uint8Array(64);
  egress = new Int32Array(64);
  vlanOps = new Uint8Array(64);
  vlanIds = new Uint16Array(64);
  macOps = new Uint8Array(64);
  srcMacHi = new Uint32Array(64);
  srcMacLo = new Uint32Array(64);
  dstMacHi = new Uint32Array(64);
  dstMacLo = new Uint32Array(64);
  expectDstHi = new Uint32Array(64);
  expectDstLo = new Uint32Array(64);
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
    const key = `${s.verdict}|${s.egress}|${s.vlanOp}:${s.vlanId}|${s.macOps}:${s.srcMacHi}:${s.srcMacLo}:${s.dstMacHi}:${s.dstMacLo}|${s.expectDstHi}:${s.expectDstLo}|${s.reverse ? 1 : 0}|${s.decisions.join(';')}`;
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
    this.expectDstHi[id] = s.expectDstHi;
    this.expectDstLo[id] = s.expectDstLo;
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
    const g8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    const g32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.verdicts = g8(this.verdicts);
    const e = new Int32Array(n);
    e.set(this.egress);
    this.egress = e;
    this.vlanOps = g8(this.vlanOps);
    const v = new Uint16Array(n);
    v.set(this.vlanIds);
    this.vlanIds = v;
    this.macOps = g8(this.macOps);
    this.srcMacHi = g32(this.srcMacHi);
    this.srcMacLo = g32(this.srcMacLo);
    this.dstMacHi = g32(this.dstMacHi);
    this.dstMacLo = g32(this.dstMacLo);
    this.expectDstHi = g32(this.expectDstHi);
    this.expectDstLo = g32(this.expectDstLo);
  }

  egressName(id: number): string {
    const e = this.egress[id]!;
    return e >= 0 ? (this.portNames[e] ?? String(e)) : '-';
  }
}
