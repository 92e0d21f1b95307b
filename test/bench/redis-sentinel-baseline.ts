/**
 * An older `@bastion/redis-sentinel`, for a benchmark's baseline row: the lib's sources at a git
 * commit, built once into `node_modules/.cache/bastion-bench/`, and resolve hooks that make the
 * built sample app import it instead of the workspace's lib. The rest of the app (its code, the
 * other libs, every dependency) is the same build, so the rows differ only in this lib.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Resolve hooks: `@bastion/redis-sentinel` and its subpaths → the baseline's `dist/`. */
const HOOKS = `
const DIST = new URL('./libs/redis-sentinel/dist/', import.meta.url);
export async function resolve(specifier, context, next) {
  const m = /^@bastion\\/redis-sentinel(?:\\/(.+))?$/.exec(specifier);
  if (m && m[1] !== 'package.json') return { url: new URL((m[1] ?? 'index') + '.js', DIST).href, shortCircuit: true };
  return next(specifier, context);
}
`;
const REGISTER = `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`;

/**
 * Builds (or reuses) the lib at `ref` and returns the Node arguments that load it in the app, or
 * why it cannot (no git history, e.g. a shallow clone).
 */
export function redisSentinelAt(ref: string): { nodeArgs: string[]; commit: string } | { skipped: string } {
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: repo, stdio: 'pipe' })
      .toString()
      .trim();
  } catch {
    return { skipped: `commit ${ref} is not in this clone` };
  }
  const dir = join(repo, 'node_modules/.cache/bastion-bench', `redis-sentinel-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, 'libs/redis-sentinel/dist/index.js'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Inside the repo's node_modules: the built lib resolves ioredis, Nest and Terminus to the very
    // packages the app uses (one Nest, one DI container).
    const archive = execFileSync('git', ['archive', commit, 'tsconfig.json', 'libs/redis-sentinel'], {
      cwd: repo,
      maxBuffer: 64 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    execFileSync(
      join(repo, 'node_modules/.bin/tsc'),
      ['-p', join(dir, 'libs/redis-sentinel/tsconfig.build.json')],
      {
        cwd: dir,
        stdio: 'inherit',
      },
    );
  }
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir, 'register.mjs'), REGISTER);
  return { nodeArgs: ['--import', pathToFileURL(join(dir, 'register.mjs')).href], commit };
}
