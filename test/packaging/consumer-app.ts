import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A throwaway Nest app OUTSIDE the workspace that installs our libs from their `npm pack` tarballs
 * and everything else from the npm registry, as a user would. Shared by the packaged-install test
 * and the README-examples test.
 */
const run = promisify(execFile);
export const workspace = fileURLToPath(new URL('../..', import.meta.url));
export const tsc = join(workspace, 'node_modules/typescript/bin/tsc');

/** Files a lib's tarball may hold: the build output, the manual, the licence. */
const SHIPPED = /^(dist\/|package\.json$|README\.md$|LICEN[SC]E$)/;

/** Runs a command with a deadline; on failure the error carries its output. */
export async function sh(
  file: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(file, [...args], { cwd, timeout: timeoutMs, env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
      { cause: error },
    );
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The version of a registry package installed in the workspace (the lockfile's pin). */
export function installedVersion(name: string): string {
  return readJson<{ version: string }>(join(workspace, 'node_modules', name, 'package.json')).version;
}

export function packageName(lib: string): string {
  return readJson<{ name: string }>(join(workspace, lib, 'package.json')).name;
}

/** The tarball of one lib: its path and the files it holds. */
export interface PackedLib {
  readonly tarball: string;
  readonly files: readonly string[];
}

/**
 * Packs workspace libs into one scratch folder, each once per process, and removes the folder at
 * exit. Libs must have been built (`npm test` builds before Vitest runs).
 */
export class LibPacker {
  readonly scratch = mkdtempSync(join(tmpdir(), 'bastion-packaging-'));
  readonly #packed = new Map<string, Promise<PackedLib>>();

  pack(lib: string): Promise<PackedLib> {
    let packed = this.#packed.get(lib);
    if (!packed) {
      packed = this.#pack(lib);
      this.#packed.set(lib, packed);
    }
    return packed;
  }

  dispose(): void {
    rmSync(this.scratch, { recursive: true, force: true });
  }

  async #pack(lib: string): Promise<PackedLib> {
    const libDir = join(workspace, lib);
    if (!existsSync(join(libDir, 'dist/index.js')))
      throw new Error(`${lib} is not built: run \`npm run build\` first (npm test does)`);
    const destination = join(this.scratch, 'tarballs');
    mkdirSync(destination, { recursive: true });
    const { stdout } = await sh('npm', ['pack', '--json', '--pack-destination', destination], libDir, 60_000);
    const [{ filename, files }] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    const stray = paths.filter((path) => !SHIPPED.test(path));
    if (stray.length > 0) throw new Error(`${lib}: unexpected files in the tarball: ${stray.join(', ')}`);
    return { tarball: join(destination, filename), files: paths };
  }

  /**
   * Creates an app folder with the given libs (from tarballs) and registry packages (pinned to the
   * workspace's versions), writes `files`, and runs `npm install` against the registry. The npm
   * cache is whatever the caller's environment names: CI points it at an empty folder.
   */
  async installApp(options: {
    readonly libs: readonly string[];
    readonly dependencies: readonly string[];
    readonly files?: Readonly<Record<string, string>>;
    readonly tsconfig?: Readonly<Record<string, unknown>>;
  }): Promise<string> {
    const packed = await Promise.all(options.libs.map((lib) => this.pack(lib)));
    const appDir = mkdtempSync(join(this.scratch, 'app-'));
    const dependencies: Record<string, string> = {};
    options.libs.forEach((lib, i) => (dependencies[packageName(lib)] = `file:${packed[i].tarball}`));
    for (const name of options.dependencies) dependencies[name] = installedVersion(name);
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({
        name: 'bastion-consumer',
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
          ...options.tsconfig,
        },
        include: ['src'],
      }),
    );
    for (const [path, content] of Object.entries(options.files ?? {})) {
      mkdirSync(dirname(join(appDir, path)), { recursive: true });
      writeFileSync(join(appDir, path), content);
    }
    // From the registry, as a user installs (`--prefer-offline` only reuses what the cache holds).
    await sh(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
      appDir,
      180_000,
    );
    return appDir;
  }
}
