/**
 * Every file of the capture corpus in test/corpus/ (587 files, many malformed on purpose) replayed
 * through the sample topology, plain and traced: no exception other than a clean
 * CaptureFormatError for the invalid containers, bounded time, and every frame accounted for
 * (in = out + dropped, each drop with a reason).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/base/errors.js';
import { IngressResolver, loadPolicy, NullSink, replayCapture } from '../../src/cli/replay-common.js';
import { Engine } from '../../src/pipeline/engine.js';
import { Tracer } from '../../src/pipeline/trace.js';
import { corpusManifest } from '../corpus.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PER_FILE_MS = 5000;

describe('replay of the capture corpus', () => {
  it('every file replays (and traces) without a crash or a hang; in = out + dropped', () => {
    const rows = corpusManifest();
    expect(rows.length).toBeGreaterThan(500);
    const policy = loadPolicy(join(ROOT, 'pcaps/transparent.json'));
    let files = 0;
    let invalid = 0;
    let frames = 0;
    const problems: string[] = [];
    for (const { file: rel, path: file } of rows) {
      for (const traced of [false, true]) {
        const engine = new Engine(policy, { flowCapacity: 4096 });
        const tracer = traced ? new Tracer(() => engine.policy) : null;
        engine.tracer = tracer;
        const t0 = Date.now();
        const r = replayCapture(file, engine, new IngressResolver(policy, -1), new NullSink(), tracer ? { batchSize: 1, onBatch: () => { tracer.finish(); tracer.done.length = 0; } } : {});
        const ms = Date.now() - t0;
        if (ms > PER_FILE_MS) problems.push(`${rel}: ${ms} ms`);
        if (r.failure && !(r.failure instanceof CaptureFormatError)) problems.push(`${rel}: ${String((r.failure as Error).stack ?? r.failure)}`);
        const c = (n: Parameters<Engine['counter']>[0]): number => engine.counter(n);
        if (c('in') !== c('out') + c('dropped')) problems.push(`${rel}: in ${c('in')} != out ${c('out')} + dropped ${c('dropped')}`);
        if (engine.drops.reduce((a, b) => a + b, 0) !== c('dropped')) problems.push(`${rel}: drops by reason do not add up`);
        if (!traced) {
          files++;
          if (r.failure) invalid++;
          frames += c('in');
        }
      }
    }
    console.log(`corpus replay: ${files} files, ${files - invalid} to the end, ${invalid} invalid containers refused cleanly, ${frames} frames, plain and traced`);
    expect(problems).toEqual([]);
    expect(invalid).toBe(5);
  });
});
