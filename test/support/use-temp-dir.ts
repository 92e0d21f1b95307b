import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/**
 * A fresh folder under the OS temp dir, made before each test (`per: 'test'`, the default) or once
 * before the suite's tests (`per: 'suite'`), and removed after it, also when it failed.
 *
 * Call it in a `describe` (or at the top of a file) before the hooks that use the folder: Vitest
 * runs after-hooks in reverse, so the folder outlives whatever a later hook started in it. Returns
 * a getter for the folder's path, usable inside hooks and tests.
 */
export function useTempDir(prefix: string, per: 'test' | 'suite' = 'test'): () => string {
  let path: string | undefined;
  const [before, after] = per === 'test' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(() => {
    path = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => {
    if (path) rmSync(path, { recursive: true, force: true });
    path = undefined;
  });
  return () => {
    if (!path) throw new Error('useTempDir(): the folder only exists inside hooks and tests');
    return path;
  };
}
