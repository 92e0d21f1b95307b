import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LibPacker, packageName, sh, tsc } from './consumer-app.js';
import type { PackagingFixture } from './packaging-fixture.js';

/**
 * Proves that a user can install and import each lib without our monorepo: `npm pack` the lib, install
 * the tarball into a throwaway Nest app in a temp dir OUTSIDE the workspace (other packages from the
 * registry, as a user would), compile it with tsc (nodenext, strict) and boot it. One fixture per lib
 * in `fixtures/`.
 */
const fixturesDir = fileURLToPath(new URL('./fixtures', import.meta.url));

const fixtures: [string, PackagingFixture][] = await Promise.all(
  readdirSync(fixturesDir)
    .filter((file) => file.endsWith('.ts'))
    .toSorted()
    .map(async (file) => [
      file,
      ((await import(join(fixturesDir, file))) as { default: PackagingFixture }).default,
    ]),
);

const packer = new LibPacker();
afterAll(() => packer.dispose());

// The installs are network-bound: start them all at once, each test awaits its own.
const installs = new Map<PackagingFixture, Promise<string>>();
beforeAll(() => {
  for (const [, fixture] of fixtures) {
    const install = packer.installApp({
      libs: [fixture.lib, ...(fixture.alsoPack ?? [])],
      dependencies: fixture.dependencies,
      files: fixture.files,
    });
    install.catch(() => undefined); // reported by the test that awaits it
    installs.set(fixture, install);
  }
});

describe('packaged install outside the workspace', () => {
  it.each(fixtures)(
    '%s: npm pack → npm install → tsc → boot',
    async (_file, fixture) => {
      const appDir = await installs.get(fixture)!;
      const env = fixture.setup?.(appDir) ?? {};
      // The lib must be a real copy from the tarball, not a link back into the workspace.
      const installed = join(appDir, 'node_modules', packageName(fixture.lib));
      expect(existsSync(join(installed, 'src'))).toBe(false);
      expect(existsSync(join(installed, 'dist/index.d.ts'))).toBe(true);

      await sh(process.execPath, [tsc, '-p', appDir], appDir, 60_000);
      const { stdout } = await sh(process.execPath, ['dist/main.js'], appDir, 20_000, {
        PATH: process.env.PATH,
        ...env,
      });
      expect(stdout).toMatch(fixture.expectOutput);
    },
    240_000,
  );
});
