// Generates the TypeScript declarations of the contract's worlds from the
// repository's wit/ with jco's guest type generator (the `jco guest-types`
// command, called through its library), into types/wit/:
//
//   node guest-connectors/javascript/types/generate.mjs           # write types/wit/
//   node guest-connectors/javascript/types/generate.mjs --check   # exit 1 if types/wit/ is stale
//
// One declaration file per world (`declare module
// 'wasmconnect:connector/source@0.2.0'`, …) and one per interface
// (`declare module 'wasmconnect:database/sql@0.1.0'`, …); the worlds share
// their interfaces' files. The kit's own declarations (lib/*.d.ts) use
// these. Uses @bytecodealliance/jco-transpile from the toolchain that
// scripts/setup-polyglot.sh installs (with jco, pinned in
// toolchain/package.json); needs no network.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const WORLDS = ['source', 'sink', 'transform', 'source-with-database', 'sink-with-database', 'source-with-http', 'sink-with-http'];

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
export const OUT = join(here, 'wit');

const polyglot = process.env.WASMCONNECT_POLYGLOT ?? join(process.env.HOME ?? '', '.cache/wasmconnect/polyglot');
const nodeModules = join(polyglot, 'node/node_modules');

/** Every generated file: path relative to types/wit → text. */
export async function generate() {
  const require = createRequire(join(nodeModules, '@bytecodealliance/jco-transpile/package.json'));
  // The type generator is itself a component run on Node's WASI shim,
  // which opens no directory unless told: let it read the repository.
  const fs = await import(pathToFileURL(require.resolve('@bytecodealliance/preview2-shim/filesystem')).href);
  fs._addPreopen(root, root);
  const { generateGuestTypes } = await import(pathToFileURL(require.resolve('@bytecodealliance/jco-transpile')).href);
  const decoder = new TextDecoder();
  const files = new Map();
  for (const world of WORLDS) {
    const generated = await generateGuestTypes(join(root, 'wit'), { worldName: world });
    for (const [path, bytes] of Object.entries(generated)) {
      const text = `// Generated from wit/ by types/generate.mjs (jco guest types): do not edit.\n${decoder.decode(bytes)}`;
      const previous = files.get(path);
      if (previous !== undefined && previous !== text) throw new Error(`${path} differs between worlds`);
      files.set(path, text);
    }
  }
  return files;
}

/** The files under types/wit as generate() returns them. */
export function committed() {
  const files = new Map();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(OUT, path), readFileSync(path, 'utf8'));
    }
  };
  try {
    walk(OUT);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  return files;
}

/** What differs between the generated and the committed files (empty when none). */
export function differences(generated, existing) {
  const problems = [];
  for (const [path, text] of generated) {
    if (!existing.has(path)) problems.push(`missing: types/wit/${path}`);
    else if (existing.get(path) !== text) problems.push(`stale: types/wit/${path}`);
  }
  for (const path of existing.keys()) if (!generated.has(path)) problems.push(`not generated: types/wit/${path}`);
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const generated = await generate();
  if (process.argv.includes('--check')) {
    const problems = differences(generated, committed());
    if (problems.length > 0) {
      console.error(`types/wit does not match wit/ (run node guest-connectors/javascript/types/generate.mjs):\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log(`types/wit matches wit/ (${generated.size} files)`);
  } else {
    rmSync(OUT, { recursive: true, force: true });
    for (const [path, text] of generated) {
      mkdirSync(dirname(join(OUT, path)), { recursive: true });
      writeFileSync(join(OUT, path), text);
    }
    console.log(`wrote ${generated.size} files to ${relative(process.cwd(), OUT) || OUT}`);
  }
}
