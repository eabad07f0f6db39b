/**
 * What each stage of the pipeline costs per frame, measured cumulatively on captures held in
 * memory (so the file system is out of the figure):
 *
 *   node dist/bench/stages.js [--packets N] [--runs R]
 *
 * Two traffics, both from bench/acl.ts's generator through its topology (10 ACL rules on `web`):
 * "hits", N frames of 4,096 established flows (every frame after a flow's first is a flow-cache
 * hit forwarded unchanged), and "new flows", N/4 SYNs each opening a stateful flow pair.
 *
 * For each, passes that stop after a growing prefix of the walk, each the best of R (default 5)
 * after a warm-up pass. Hits run on one engine whose flows a first whole pass installed; new
 * flows on a fresh engine per pass whose table memory is touched before the timer starts (and
 * once more untouched, `whole, cold memory`: the first touches of the table's pages are then in
 * the figure, as in a real run):
 *   read      CaptureReader.fromBytes filling batches of 512
 *   parse     + parseBatch
 *   ingress   + the ingress stage (ports, key port word, probe list)
 *   fast      + the fast stage (batched probe, hits; plain hits straight to the output vector)
 *   whole     Engine.processParsed: + slow path, rewrite, tx, recirculation, sweep, removal
 *             rows, the sink (one that only counts)
 * A stage's cost is the difference between consecutive lines. The stages after `fast` only run
 * for frames the fast stage left (all of them on new flows), so `whole - fast` is their share.
 */
import { CaptureReader } from '../src/io/reader.js';
import { FrameBatch } from '../src/frame/batch.js';
import { loadTopology } from '../src/config/topology.js';
import { parseBatch } from '../src/parse/parse.js';
import { Engine } from '../src/pipeline/engine.js';
import type { IngressMap } from '../src/pipeline/engine.js';
import { fastStage } from '../src/pipeline/fast.js';
import { ingressStage } from '../src/pipeline/ingress.js';
import type { EmitBatch } from '../src/pipeline/output.js';
import { compilePolicy } from '../src/pipeline/policy.js';
import { aclCapture, benchAcls, benchTopology } from './acl.js';

const STEPS = ['read', 'parse', 'ingress', 'fast', 'whole'] as const;
type Step = (typeof STEPS)[number];

const NO_INTERFACES: IngressMap = { byInterface: new Int32Array(0), forced: -1 };

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const counting = {
  items: 0,
  emit(out: EmitBatch): void {
    this.items += out.count;
  },
};

function newEngine(capacity: number, touch: boolean): Engine {
  const policy = compilePolicy(loadTopology(benchTopology(benchAcls(10, 7)), 'bench topology'), 1);
  const engine = new Engine(policy, { flowCapacity: capacity });
  if (touch) {
    const f = engine.flows;
    f.hotWords.fill(0);
    f.coldWords.fill(0);
    f.slots.fill(0);
    (f as unknown as { slotHashes: Uint32Array }).slotHashes.fill(0);
  }
  return engine;
}

/** One pass over `data` up to `step` on `engine`; returns seconds. */
function pass(engine: Engine, data: Uint8Array, step: Step): number {
  const st = engine.state;
  const policy = engine.policy;
  const reader = CaptureReader.fromBytes(data, 'stages');
  const batch = new FrameBatch(512);
  const t0 = process.hrtime.bigint();
  for (;;) {
    const n = reader.read(batch);
    if (n === 0) break;
    if (step === 'read') continue;
    parseBatch(batch, policy.vxlanPort);
    if (step === 'parse') continue;
    if (step === 'whole') {
      engine.processParsed(batch, NO_INTERFACES, counting);
      continue;
    }
    // The driver's prologue (engine.ts processParsed), then the stages up to `step`.
    st.out.reset(batch);
    st.cols = st.outer;
    st.outer.ensure(n);
    for (let i = 0; i < n; i++) st.outer.origins[i] = i;
    ingressStage(st, batch, NO_INTERFACES, 0);
    if (step === 'ingress') continue;
    fastStage(st, batch, 0);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function measure(name: string, data: Uint8Array, frames: number, runs: number, capacity: number, fresh: boolean): void {
  console.log(`${name}: ${frames.toLocaleString('en-US')} frames, best of ${runs}`);
  let before = 0;
  const warmed = fresh ? null : newEngine(capacity, false);
  if (warmed) pass(warmed, data, 'whole'); // installs the flows
  const engineFor = (touch: boolean): Engine => warmed ?? newEngine(capacity, touch);
  const line = (label: string, seconds: number, delta: boolean): void => {
    const ns = (seconds * 1e9) / frames;
    console.log(`  ${label.padEnd(20)} ${ns.toFixed(1).padStart(7)} ns/frame cumulative   ${delta ? `+${(ns - before).toFixed(1)}` : ''}`);
    before = ns;
  };
  for (const step of STEPS) {
    pass(engineFor(true), data, step); // warm-up
    let best = Infinity;
    for (let r = 0; r < runs; r++) best = Math.min(best, pass(engineFor(true), data, step));
    line(step, best, step !== 'read');
  }
  if (fresh) {
    let best = Infinity;
    for (let r = 0; r < runs; r++) best = Math.min(best, pass(engineFor(false), data, 'whole'));
    line('whole, cold memory', best, true);
  }
}

const packets = arg('--packets', 1_000_000);
const runs = arg('--runs', 5);
measure('hits (4,096 established flows)', aclCapture(packets, 4096, false, 1), packets, runs, 262144, false);
const syns = Math.floor(packets / 4);
measure('new flows (one SYN per stateful pair)', aclCapture(syns, syns, true, 1), syns, runs, 1 << 22, true);
