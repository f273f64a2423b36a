// The TypeScript side of the kit: types/wit/ is what jco generates from
// the repository's wit/ today, and the templates and examples type-check
// (`// @ts-check` JavaScript against lib/*.d.ts and types/wit/) with the
// pinned TypeScript. Needs no built component.
//
//   node --test guest-connectors/javascript/test/types.test.mjs
// (test/check.mjs runs it too.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { committed, differences, generate } from '../types/generate.mjs';

const kit = join(dirname(fileURLToPath(import.meta.url)), '..');
const polyglot = process.env.WASMCONNECT_POLYGLOT ?? join(process.env.HOME ?? '', '.cache/wasmconnect/polyglot');

test('types/wit is what jco generates from wit/', async () => {
  const problems = differences(await generate(), committed());
  assert.deepEqual(problems, [], 'run node guest-connectors/javascript/types/generate.mjs');
});

test('templates and examples type-check with tsc --noEmit', () => {
  const tsc = join(polyglot, 'node/node_modules/.bin/tsc');
  try {
    execFileSync(tsc, ['-p', kit, '--noEmit'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`tsc found problems:\n${e.stdout}${e.stderr}`);
  }
});
