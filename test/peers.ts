/**
 * The external programs some tests use as peers (tshark, capinfos, tcpdump), found once, and the
 * one rule for a missing one:
 *
 *   - outside CI the tests that need it skip, with the reason and the package to install in the
 *     skipped test's name and one warning line per file;
 *   - under CI (the `CI` environment variable set to anything but "", "0" or "false") they fail,
 *     with a message that says what to install, so that a CI run never passes with less coverage
 *     than it claims.
 *
 * Use `describeWith(peers, name, body)` for a block of tests and `itWith(peers, name, fn)` for one
 * test; inside them the peer is on PATH (tcpdump: `peerPath('tcpdump')`, as `vfp bench` finds it).
 */
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';
import type { TestOptions } from 'vitest';
import { findTcpdump } from '../bench/suite.js';

export type Peer = 'tshark' | 'capinfos' | 'tcpdump';

/** What to install for each peer (Debian/Ubuntu package names). */
const INSTALL: Record<Peer, string> = {
  tshark: 'apt-get install tshark',
  capinfos: 'apt-get install wireshark-common (tshark brings it)',
  tcpdump: 'apt-get install tcpdump',
};

/** True when the tests run under CI: `CI` set to anything but "", "0" or "false". */
export const UNDER_CI = ((v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false')(process.env['CI']);

function onPath(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p === '' ? null : p;
}

const found = new Map<Peer, string | null>();

/** Where the peer is, or null when it is not installed. tcpdump is looked up as `vfp bench` does (PATH, then the sbin folders). */
export function peerPath(peer: Peer): string | null {
  if (!found.has(peer)) found.set(peer, peer === 'tcpdump' ? findTcpdump() : onPath(peer));
  return found.get(peer)!;
}

function missingOf(peers: Peer | Peer[]): Peer[] {
  return (Array.isArray(peers) ? peers : [peers]).filter((p) => peerPath(p) === null);
}

/** The failure under CI: which peers are missing and how to install them. */
export function requiredMessage(missing: Peer[]): string {
  return missing.map((p) => `${p} is required under CI: ${INSTALL[p]}`).join('; ');
}

function skipReason(missing: Peer[]): string {
  return `skipped: ${missing.map((p) => `${p} is not installed (${INSTALL[p]})`).join(', ')}`;
}

const warned = new Set<Peer>();
function warn(missing: Peer[], name: string): void {
  const fresh = missing.filter((p) => !warned.has(p));
  for (const p of fresh) warned.add(p);
  if (fresh.length > 0) console.warn(`${skipReason(fresh)}: "${name}" and any other test that needs it`);
}

/** A describe block whose tests need the peers: runs, skips (outside CI) or fails (under CI) as a whole. */
export function describeWith(peers: Peer | Peer[], name: string, body: () => void): void {
  const missing = missingOf(peers);
  if (missing.length === 0) {
    describe(name, body);
  } else if (UNDER_CI) {
    describe(name, () => {
      it(`needs ${missing.join(', ')}`, () => {
        throw new Error(requiredMessage(missing));
      });
    });
  } else {
    warn(missing, name);
    describe.skip(`${name} (${skipReason(missing)})`, body);
  }
}

/** One test that needs the peers: runs, skips (outside CI) or fails (under CI). */
export function itWith(peers: Peer | Peer[], name: string, fn: () => unknown, options?: TestOptions): void {
  const missing = missingOf(peers);
  if (missing.length === 0) {
    it(name, options ?? {}, fn);
  } else if (UNDER_CI) {
    it(name, () => {
      throw new Error(requiredMessage(missing));
    });
  } else {
    warn(missing, name);
    it.skip(`${name} (${skipReason(missing)})`, fn);
  }
}
