/**
 * The capture corpus kept in this repository (test/corpus/: 587 files from the tcpdump, libpcap and
 * pcapng-test-generator test suites; provenance and licences in test/corpus/README.md) and its
 * manifest, one row per file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The corpus folder: test/corpus/ of this repository. */
export const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

/** One row of test/corpus/manifest.tsv (its columns are described in test/corpus/README.md). */
export interface CorpusFile {
  /** Path relative to the corpus folder, e.g. `tcpdump/time_2038.pcap`. */
  file: string;
  /** Absolute path. */
  path: string;
  /** LINKTYPE number and name of each interface, e.g. `1 EN10MB`. */
  linkType: string;
  /** Packet records in the file, counted from the container. */
  packets: number;
  exercises: string;
  malformed: boolean;
  notes: string;
}

/** Every row of the manifest, in its order. */
export function corpusManifest(): CorpusFile[] {
  const lines = readFileSync(join(CORPUS, 'manifest.tsv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split('\t');
  const expected = ['file', 'link_type', 'packets', 'exercises', 'malformed', 'notes'];
  if (header.join('\t') !== expected.join('\t')) throw new Error(`test/corpus/manifest.tsv: columns ${header.join(', ')}, expected ${expected.join(', ')}`);
  return lines.slice(1).map((line) => {
    const [file = '', linkType = '', packets = '', exercises = '', malformed = '', notes = ''] = line.split('\t');
    return { file, path: join(CORPUS, file), linkType, packets: Number(packets), exercises, malformed: malformed === 'yes', notes };
  });
}
