/**
 * docker/secrets/generate-secrets.sh, run for real in a temp folder: strong distinct values in a
 * safe alphabet, no trailing newline, 0444 files in a 0700 folder, nothing overwritten without
 * --force; and the git-ignore rules that keep real secrets out of the repo.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useTempDir } from '../support/use-temp-dir.js';
import { DOCKER_DIR, loadCompose, STACKS } from './stack-files.js';

const run = promisify(execFile);
const SCRIPT = join(DOCKER_DIR, 'secrets/generate-secrets.sh');
const gen = (...args: string[]) => run('sh', [SCRIPT, ...args], { timeout: 10_000 });

describe('docker/secrets/generate-secrets.sh', () => {
  const tempDir = useTempDir('bastion-secrets-');
  let dir: string;
  beforeEach(() => {
    dir = join(tempDir(), 'secrets');
  });

  it('writes every secret the production stack declares, strong and distinct', async () => {
    await gen('--dir', dir);
    const declared = Object.values(loadCompose(STACKS.prod).secrets!).map((s) =>
      s.file!.replace('./secrets/', ''),
    );
    expect(readdirSync(dir).toSorted()).toEqual(declared.toSorted());
    const values = declared.map((name) => readFileSync(join(dir, name), 'utf8'));
    for (const v of values) {
      expect(v).toMatch(/^[A-Za-z0-9_-]{43,}$/); // 32 random bytes, base64url, no newline
    }
    expect(new Set(values).size).toBe(values.length);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of declared) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o444);
  });

  it('keeps existing secrets unless --force, and --force replaces only the one named', async () => {
    await gen('--dir', dir);
    const before = Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
    const rerun = await gen('--dir', dir);
    expect(rerun.stdout).toMatch(/kept/);
    for (const [n, v] of Object.entries(before)) expect(readFileSync(join(dir, n), 'utf8')).toBe(v);

    await gen('--dir', dir, '--force', 'session_secret');
    for (const [n, v] of Object.entries(before)) {
      if (n === 'session_secret') expect(readFileSync(join(dir, n), 'utf8')).not.toBe(v);
      else expect(readFileSync(join(dir, n), 'utf8')).toBe(v);
    }
  });

  it('refuses an unknown secret name and prints no value', async () => {
    await expect(gen('--dir', dir, 'not_a_secret')).rejects.toMatchObject({ code: 64 });
    const out = await gen('--dir', dir);
    for (const n of readdirSync(dir)) expect(out.stdout).not.toContain(readFileSync(join(dir, n), 'utf8'));
  });
});

const checkIgnore = (path: string) =>
  spawnSync('git', ['check-ignore', '-q', path], { cwd: DOCKER_DIR, timeout: 5000 }).status === 0;

describe('git keeps real secrets out of the repo', () => {
  it.runIf(spawnSync('git', ['--version']).status === 0)(
    'ignores generated files, not the examples or the script',
    () => {
      expect(checkIgnore('secrets/redis_password')).toBe(true);
      expect(checkIgnore('secrets/grafana_admin_password')).toBe(true);
      expect(checkIgnore('secrets/redis_password.example')).toBe(false);
      expect(checkIgnore('secrets/generate-secrets.sh')).toBe(false);
      expect(checkIgnore('secrets/README.md')).toBe(false);
    },
  );
});
