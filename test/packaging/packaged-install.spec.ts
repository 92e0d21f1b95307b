import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PackagingFixture } from './packaging-fixture.js';

/**
 * Proves that a user can install and import each lib without our monorepo: `npm pack` the lib, install
 * the tarball into a throwaway Nest app in a temp dir OUTSIDE the workspace (offline, from the warm npm
 * cache), compile it with tsc (nodenext, strict) and boot it. One fixture per lib in `fixtures/`.
 */
const run = promisify(execFile);
const workspace = fileURLToPath(new URL('../..', import.meta.url));
const fixturesDir = fileURLToPath(new URL('./fixtures', import.meta.url));
const tsc = join(workspace, 'node_modules/typescript/bin/tsc');

const fixtures: [string, PackagingFixture][] = await Promise.all(
  readdirSync(fixturesDir)
    .filter((file) => file.endsWith('.ts'))
    .toSorted()
    .map(async (file) => [
      file,
      ((await import(join(fixturesDir, file))) as { default: PackagingFixture }).default,
    ]),
);

const scratch = mkdtempSync(join(tmpdir(), 'bastion-packaging-'));
const tarballs = new Map<string, Promise<string>>();

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a command with a deadline; on failure the error carries its output. */
async function sh(
  file: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
) {
  try {
    return await run(file, args, { cwd, timeout: timeoutMs, env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
      { cause: error },
    );
  }
}

/** Packs a workspace lib once (building it first if `dist` is missing) and returns the tarball path. */
function pack(lib: string): Promise<string> {
  let tarball = tarballs.get(lib);
  if (!tarball) {
    tarball = (async () => {
      const libDir = join(workspace, lib);
      if (!existsSync(join(libDir, 'dist/index.js')))
        await sh('npm', ['run', 'build', '-w', lib], workspace, 120_000);
      const destination = join(scratch, 'tarballs');
      mkdirSync(destination, { recursive: true });
      const { stdout } = await sh(
        'npm',
        ['pack', '--json', '--pack-destination', destination],
        libDir,
        60_000,
      );
      const [{ filename, files }] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
      // Only the build output and the manuals ship: no sources, tests or configs.
      const stray = files
        .map((f) => f.path)
        .filter((path) => !/^(dist\/|package\.json$|README\.md$|LICEN[SC]E)/.test(path));
      if (stray.length > 0) throw new Error(`${lib}: unexpected files in the tarball: ${stray.join(', ')}`);
      if (!files.some((f) => f.path === 'README.md')) throw new Error(`${lib}: the tarball has no README.md`);
      return join(destination, filename);
    })();
    tarballs.set(lib, tarball);
  }
  return tarball;
}

function installedVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(workspace, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

function packageName(lib: string): string {
  return (JSON.parse(readFileSync(join(workspace, lib, 'package.json'), 'utf8')) as { name: string }).name;
}

describe('packaged install outside the workspace', () => {
  it.each(fixtures)(
    '%s: npm pack → npm install → tsc → boot',
    async (_file, fixture) => {
      const libs = [fixture.lib, ...(fixture.alsoPack ?? [])];
      const packed = await Promise.all(libs.map(pack));
      const appDir = mkdtempSync(join(scratch, 'app-'));
      const dependencies: Record<string, string> = {};
      libs.forEach((lib, i) => (dependencies[packageName(lib)] = `file:${packed[i]}`));
      for (const name of fixture.dependencies) dependencies[name] = installedVersion(name);
      writeFileSync(
        join(appDir, 'package.json'),
        JSON.stringify({
          name: 'bastion-packaging-smoke',
          private: true,
          type: 'module',
          dependencies,
          devDependencies: { '@types/node': installedVersion('@types/node') },
        }),
      );
      writeFileSync(
        join(appDir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2023',
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            types: ['node'],
            // Our own .d.ts are checked through the app's imports; third-party .d.ts are not ours to fix.
            skipLibCheck: true,
            rootDir: 'src',
            outDir: 'dist',
          },
          include: ['src'],
        }),
      );
      for (const [path, content] of Object.entries(fixture.files)) {
        mkdirSync(dirname(join(appDir, path)), { recursive: true });
        writeFileSync(join(appDir, path), content);
      }
      const env = fixture.setup?.(appDir) ?? {};

      await sh(
        'npm',
        ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
        appDir,
        90_000,
      );
      // The lib must be a real copy from the tarball, not a link back into the workspace.
      expect(existsSync(join(appDir, 'node_modules', packageName(fixture.lib), 'src'))).toBe(false);
      expect(existsSync(join(appDir, 'node_modules', packageName(fixture.lib), 'dist/index.d.ts'))).toBe(
        true,
      );

      await sh(process.execPath, [tsc, '-p', appDir], appDir, 60_000);
      const { stdout } = await sh(process.execPath, ['dist/main.js'], appDir, 20_000, {
        PATH: process.env.PATH,
        ...env,
      });
      expect(stdout).toMatch(fixture.expectOutput);
    },
    180_000,
  );
});
