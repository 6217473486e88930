// package.json says "engines": {"node": ">=24"}; on an older Node (a base image's system Node) the
// gateway must refuse to start with a clear message, before it loads anything that could fail
// obscurely or misbehave (Node 20 leaked memory under load through AbortSignal.any). The entry
// gateway/main.ts is run by an old node after removing its types the way Node 24 itself does, alone in
// an empty folder: if it imported anything before the check, the import would fail first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/gateway-process.ts';

/** The system node of a Debian or Ubuntu machine (v20 on this project's build machine). */
const OLD_NODE = process.env['OLD_NODE'] ?? '/usr/bin/node';
const MINIMUM_MAJOR = 24;

function majorOf(node: string): number | undefined {
  if (!existsSync(node)) return undefined;
  const run = spawnSync(node, ['--version'], { encoding: 'utf8' });
  const match = /^v(\d+)\./.exec(run.stdout);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

const oldMajor = majorOf(OLD_NODE);
const hasOldNode = oldMajor !== undefined && oldMajor < MINIMUM_MAJOR;

describe('start on an old Node', () => {
  it.skipIf(!hasOldNode)(`is refused with a clear message and exit code 1 (${OLD_NODE}: ${oldMajor === undefined ? 'absent' : `v${oldMajor}`}; set OLD_NODE to another)`, () => {
    const folder = mkdtempSync(join(tmpdir(), 'gateway-node-check-'));
    try {
      const entry = join(folder, 'main.mjs');
      writeFileSync(entry, stripTypeScriptTypes(readFileSync(join(REPO_ROOT, 'gateway/main.ts'), 'utf8')));
      const run = spawnSync(OLD_NODE, [entry], { encoding: 'utf8', timeout: 10_000 });
      expect(run.stderr).toMatch(new RegExp(`^triton-gateway: Node\\.js ${MINIMUM_MAJOR} or newer is required[^\\n]*; this is v${oldMajor}\\.`));
      expect(run.stderr).not.toMatch(/ERR_|Error:/);
      expect(run.status).toBe(1);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
