/**
 * Stage `recirculate`: frames made inside the pipeline that must go through it again, collected
 * in a batch of their own (ShardState.recirculated) that the driver runs through the same stages
 * right after the frame that caused them. Today these are the host's answers: a frame delivered
 * to a host vNIC that asks the host something (ARP for the gateway, an ICMP echo to it) gets the
 * host's reply, entering from the vNIC port. Decapsulated, hairpinned and host-routed frames will
 * take the same path.
 *
 * Bounds: at most one batch of recirculated frames per input frame (answers beyond the batch's
 * capacity are not made); a recirculated frame's answers are not recirculated again.
 */
import type { FrameBatch } from '../frame/batch.js';
import { HOST_REPLY_NONE, HostResponder } from '../switch/host.js';
import { C_HOST_GENERATED } from './state.js';
import type { ShardState } from './state.js';

export class Recirculator {
  private readonly host = new HostResponder();

  constructor(private readonly st: ShardState) {
    st.inner.ensure(st.recirculated.capacity);
  }

  /**
   * The host behind vNIC port `vnic` answers frame i of `batch` as it was delivered (bytes d[o, o + len)),
   * if it asks something: the answer is queued for recirculation.
   */
  answer(batch: FrameBatch, i: number, vnic: number, d: Uint8Array, o: number, len: number, wire: number): void {
    const st = this.st;
    const hostAddrs = st.policy.hosts[vnic];
    if (!hostAddrs) return;
    const inj = st.recirculated;
    const size = st.recirculatedSize;
    if (size >= inj.capacity) return;
    const at = size === 0 ? 0 : inj.offsets[size - 1]! + inj.lengths[size - 1]!;
    if (inj.data.length < at + len + 64) {
      const grown = new Uint8Array(Math.max(inj.data.length * 2, at + len + 64));
      grown.set(inj.data.subarray(0, at));
      inj.setData(grown);
    }
    const kind = this.host.reply(d, o, len, hostAddrs, inj.data, at);
    if (kind === HOST_REPLY_NONE) return;
    const j = st.recirculatedSize++;
    const replyLength = this.host.replyLength;
    inj.offsets[j] = at;
    inj.lengths[j] = replyLength;
    inj.wireLengths[j] = Math.max(replyLength, wire);
    inj.timestampSeconds[j] = batch.timestampSeconds[i]!;
    inj.timestampNanos[j] = batch.timestampNanos[i]!;
    inj.numbers[j] = batch.numbers[i]!;
    inj.ports[j] = vnic;
    inj.sources[j] = 0;
    st.recirculatedKinds[j] = kind;
    st.inner.origins[j] = st.cols.origins[i]!;
    st.counters[C_HOST_GENERATED]++;
  }
}
