// Build native-shim/ (the Node-API addon: huge-page advice for the flow table's memory) with npm's
// own node-gyp. package.json's `prepare` runs it, so `npm ci` and `npm install` build the addon;
// `npm run build:native` rebuilds it by hand.
//
// It never fails the install: the engine works without the addon (src/native/shim.ts returns null
// and the flow table keeps 4 KiB pages), so when something is missing or the build fails this
// prints one line, "native shim not built: <reason>; huge pages off", keeps node-gyp's output in
// native-shim/build/node-gyp.log, and exits 0. On success it prints one line too.
//
// Offline on purpose: node-gyp would download Node's headers when it has none, and the machines
// the project runs on reach no download site, so the headers are looked up first (npm's `nodedir`,
// which npm hands to scripts as npm_config_nodedir; else the include/node folder of the running
// node's prefix; else node-gyp's cache) and passed with --nodedir.
//
// VFP_NATIVE_SHIM=off skips the build (and src/native/shim.ts then does not load the addon).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, 'native-shim');
const addon = path.join(dir, 'build', 'Release', 'shim.node');
const logFile = path.join(dir, 'build', 'node-gyp.log');
/** The line printed last, kept for src/native/shim.ts, which quotes it when the addon is missing. */
const outcomeFile = path.join(dir, 'build', 'outcome.txt');
const rel = (p) => path.relative(root, p);

class NotBuilt extends Error {}
const notBuilt = (reason) => {
  throw new NotBuilt(reason);
};

/** True when `command --version` runs (through sh, so CC="ccache gcc" works too). */
function runs(command) {
  const r = spawnSync('sh', ['-c', `${command} --version`], { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

/** npm's bundled node-gyp: npm tells scripts where it is; else beside the npm of this node; else PATH. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return [process.execPath, c];
  if (runs('node-gyp')) return ['node-gyp'];
  return null;
}

/** A folder with include/node/node_api.h: Node's headers, so node-gyp never goes to the network. */
function findNodeDir() {
  const has = (d) => fs.existsSync(path.join(d, 'include', 'node', 'node_api.h'));
  const configured = process.env.npm_config_nodedir;
  if (configured) return has(configured) ? configured : notBuilt(`npm's nodedir ${configured} has no include/node/node_api.h`);
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (has(prefix)) return prefix;
  const cached = path.join(process.env.npm_config_devdir || path.join(os.homedir(), '.cache', 'node-gyp'), process.versions.node);
  if (has(cached)) return cached;
  return notBuilt(`Node's headers (include/node/node_api.h) are not under ${prefix} nor in ${cached}`);
}

/** The line of node-gyp's output that says what went wrong, for the one-line message. */
function failureLine(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('gyp info'));
  const tool = lines.find((l) => !l.startsWith('gyp') && /error:|not found|No such file|cannot|undefined reference/i.test(l));
  const make = lines.find((l) => l.startsWith('make: ***'));
  const gyp = lines.find((l) => /^gyp ERR! stack Error:/.test(l)) ?? lines.find((l) => l.startsWith('gyp ERR!'));
  return (tool ?? make ?? gyp ?? lines.at(-1) ?? 'no output').replace(/^gyp ERR! (stack )?/, '');
}

function build() {
  if (process.env.VFP_NATIVE_SHIM === 'off') notBuilt('VFP_NATIVE_SHIM=off');
  if (process.platform !== 'linux') notBuilt(`it is for Linux, this is ${process.platform}`);
  if (!fs.existsSync(path.join(dir, 'binding.gyp'))) notBuilt(`${rel(dir)}/binding.gyp is missing`);
  const nodeGyp = findNodeGyp() ?? notBuilt("npm's node-gyp was not found");
  const nodedir = findNodeDir();
  const python = process.env.PYTHON || process.env.npm_config_python || 'python3';
  if (!runs(python)) notBuilt(`${python} does not run (node-gyp needs Python 3)`);
  if (!runs('make')) notBuilt('make does not run');
  const cc = process.env.CC || 'cc';
  if (!runs(cc)) notBuilt(`the C compiler (${cc}) does not run`);

  // The addon is plain C: link with the C compiler too, so no C++ compiler is needed (gyp's
  // Makefile links with $(CXX) unless LINK is set).
  const env = { ...process.env, LINK: process.env.LINK || cc };
  const [cmd, ...pre] = nodeGyp;
  const r = spawnSync(cmd, [...pre, 'rebuild', '--directory', dir, `--nodedir=${nodedir}`], {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, output);
  if (r.error?.code === 'ETIMEDOUT') notBuilt(`node-gyp took longer than 5 minutes (${rel(logFile)})`);
  if (r.status !== 0) notBuilt(`node-gyp failed: ${failureLine(output)} (${rel(logFile)})`);
  if (!fs.existsSync(addon)) notBuilt(`node-gyp left no ${rel(addon)} (${rel(logFile)})`);

  // Load it once here, so that a file which builds but does not load is reported now.
  try {
    const shim = createRequire(import.meta.url)(addon);
    if (typeof shim.adviseHugePages !== 'function') notBuilt(`${rel(addon)} has no adviseHugePages`);
  } catch (e) {
    if (e instanceof NotBuilt) throw e;
    fs.rmSync(addon, { force: true });
    notBuilt(`${rel(addon)} does not load: ${String(e?.message ?? e).split('\n')[0]}`);
  }
  let thp = 'unknown';
  try {
    thp = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? thp;
  } catch {
    // no THP in this kernel
  }
  say(`native shim built: ${rel(addon)} (transparent huge pages: ${thp})`);
}

function say(line) {
  console.log(line);
  try {
    fs.mkdirSync(path.dirname(outcomeFile), { recursive: true });
    fs.writeFileSync(outcomeFile, `${line}\n`);
  } catch {
    // a read-only tree: the line printed is enough
  }
}

try {
  build();
} catch (e) {
  // Whatever went wrong, the install goes on: the engine runs without the addon.
  const reason = e instanceof NotBuilt ? e.message : `unexpected error: ${String(e?.message ?? e).split('\n')[0]}`;
  // A file from an earlier build would be loaded by the engine: remove it, so that what runs is
  // what this message says.
  if (!(e instanceof NotBuilt && reason === 'VFP_NATIVE_SHIM=off')) fs.rmSync(addon, { force: true });
  say(`native shim not built: ${reason}; huge pages off`);
}
process.exitCode = 0;
