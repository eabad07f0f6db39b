/**
 * A worker of `vfp bench --workers N` (scenario parse, memory mode): receives its slice of the
 * capture (a pcap image inside a SharedArrayBuffer: no copy), answers 'ready', then on each 'run'
 * parses the whole slice and answers [frames, bytes, xor of hashes]. The batch is allocated once.
 */
import { parentPort } from 'node:worker_threads';
import { FrameBatch } from '../src/frame/batch.js';
import { CaptureReader } from '../src/io/reader.js';
import { parseAll } from './suite.js';

if (!parentPort) throw new Error('parse-worker.js must run as a worker thread');
const port = parentPort;
let bytes: Uint8Array | null = null;
const batch = new FrameBatch();
port.on('message', (m: { sab: SharedArrayBuffer; offset: number; size: number } | 'run') => {
  if (m === 'run') {
    port.postMessage(parseAll(CaptureReader.fromBytes(bytes!, 'slice'), batch));
    return;
  }
  bytes = new Uint8Array(m.sab, m.offset, m.size);
  port.postMessage('ready');
});
