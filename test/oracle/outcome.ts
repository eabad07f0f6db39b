/**
 * What the oracle test feeds both sides and what it compares: the input frames of one stream, the
 * policy generations and options, and the result of a run (every frame handed to the sink, in
 * order, plus the counters). Shared by the reference model (reference.ts) and the engine adapter
 * (engine.ts); nothing here knows how either works.
 */
import type { Policy } from '../../src/pipeline/policy.js';

/** One input frame: its captured bytes, its length on the wire, its packet-clock time, and the port it enters from. */
export interface InputFrame {
  bytes: Uint8Array;
  /** Original length (>= bytes.length; larger for a snapped frame). */
  wire: number;
  sec: number;
  ns: number;
  /** The capture interface's port name; null: the frame's capture interface names no port (ingress by source MAC, else the first uplink). */
  ingress: string | null;
}

export interface StreamSetup {
  /** Policy generations: policies[0] is current from the start; policies[k] (generation k + 1) from frame changes[k - 1] on. */
  policies: Policy[];
  /** 0-based input frame index before which policies[k + 1] is installed, ascending. */
  changes: number[];
  /** Idle timeout of flows no stateful rule decided (seconds). */
  uftTtl: number;
  /** Seconds a flow lives after a TCP RST at most. */
  rstTimeout: number;
}

/** One frame handed to the sink. */
export interface SinkEvent {
  /** Input frame number (1-based); a host answer carries the number of the frame it answers. */
  n: number;
  kind: 'forward' | 'drop';
  /** forward: the egress port; drop: the ingress port ('-' when unknown). */
  port: string;
  /** drop: the reason. */
  reason?: string;
  /** Whether the frame took its decision from the flow cache. */
  hit: boolean;
  /** 0 for an input frame; 1 a host vNIC's ARP reply; 2 its echo reply. */
  generated: number;
  /** The frame as it leaves (forward) or as it came (drop), hex. */
  bytes: string;
  wire: number;
}

export interface RunResult {
  events: SinkEvent[];
  /** in, out, dropped, emitted, flow-hits, flow-misses, flow-stale, uncached, host-generated, host-forwarded, host-dropped. */
  counters: Record<string, number>;
  /** Input frames dropped per reason (reasons with a zero count left out). */
  drops: Record<string, number>;
  /** Per port: input frames received, frames sent (flood copies and host answers included). */
  ports: Record<string, { rx: number; tx: number }>;
  /** Per meter name: packets and bytes of the frames sent under it. */
  meters: Record<string, { packets: number; bytes: number }>;
  /** Flow entries alive at the last frame's time: `packets/bytes/lastSeen/expiry`, sorted. */
  flows: string[];
}

export const COUNTER_NAMES = ['in', 'out', 'dropped', 'emitted', 'flow-hits', 'flow-misses', 'flow-stale', 'uncached', 'host-generated', 'host-forwarded', 'host-dropped'] as const;

/** The packet-clock time of a frame, computed as the engine computes it (seconds + nanoseconds × 1e-9). */
export function frameTime(f: InputFrame): number {
  return f.sec + f.ns * 1e-9;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
