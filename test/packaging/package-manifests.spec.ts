import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { LibPacker, workspace } from './consumer-app.js';

/**
 * What a user sees of each lib before running it: the tarball's files, its manifest, the install
 * line of its README, and the engine warnings `npm ci` prints here.
 */
const LIBS = ['libs/secrets', 'libs/redis-sentinel', 'libs/loki-logger'];

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  engines?: { node?: string };
}

const manifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

const packer = new LibPacker();
afterAll(() => packer.dispose());

describe.each(LIBS)('%s as published', (lib) => {
  const dir = join(workspace, lib);

  it('ships its licence, its manual and its build output', async () => {
    const { files } = await packer.pack(lib);
    expect(files).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']),
    );
  });

  it('has source maps that carry their sources (the .ts files are not shipped)', async () => {
    const { files } = await packer.pack(lib);
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect(sourcesContent?.length, `${lib}/${map} has no sourcesContent`).toBe(sources.length);
      expect(sourcesContent!.every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
    }
  });

  it('declares ranges, not exact versions (the app lockfile pins them)', () => {
    const { dependencies = {}, peerDependencies = {} } = manifest(dir);
    for (const [name, range] of Object.entries({ ...dependencies, ...peerDependencies })) {
      expect(semver.valid(range), `${lib}: ${name}@${range} is an exact version`).toBeNull();
      expect(semver.validRange(range), `${lib}: ${name}@${range} is not a range`).not.toBeNull();
    }
  });

  it("README's install line names the lib and every required peer", () => {
    const { name, peerDependencies = {}, peerDependenciesMeta = {} } = manifest(dir);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith(`npm install ${name} `));
    expect(line, `${lib}/README.md has no "npm install ${name} ..." line`).toBeDefined();
    const words = new Set(line!.split(/\s+/));
    const required = Object.keys(peerDependencies).filter((p) => !peerDependenciesMeta[p]?.optional);
    expect(required.filter((p) => !words.has(p))).toEqual([]);
  });
});

/** Every package a built module imports, following its relative imports through `dist/`. */
function importedPackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      if (spec!.startsWith('.')) visit(join(dirname(file), spec!));
      else
        packages.add(spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!);
    }
  };
  visit(entry);
  return packages;
}

/**
 * `./<entry>` of a lib is packed and exported, `peer` is an optional peer, and of the lib's entries
 * only `./<entry>` loads it (`others` never do).
 */
async function expectOnlySubpathLoads(lib: string, entry: string, peer: string, others = ['index']) {
  const dir = join(workspace, `libs/${lib}`);
  const { files } = await packer.pack(`libs/${lib}`);
  expect(files).toEqual(expect.arrayContaining([`dist/${entry}.js`, `dist/${entry}.d.ts`]));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    exports: Record<string, { import?: string; types?: string }>;
  } & Manifest;
  expect(pkg.exports[`./${entry}`]).toMatchObject({
    import: `./dist/${entry}.js`,
    types: `./dist/${entry}.d.ts`,
  });
  expect(pkg.peerDependenciesMeta?.[peer]?.optional).toBe(true);
  for (const other of others) expect(importedPackages(join(dir, `dist/${other}.js`))).not.toContain(peer);
  expect(importedPackages(join(dir, `dist/${entry}.js`))).toContain(peer);
}

describe('optional integrations stay optional (Terminus style)', () => {
  it('@bastion/secrets: the main entry never loads @nestjs/config; the ./config subpath does', async () => {
    await expectOnlySubpathLoads('secrets', 'config', '@nestjs/config');
  });

  it('@bastion/secrets: the main entry never loads prom-client; the ./metrics subpath does', async () => {
    await expectOnlySubpathLoads('secrets', 'metrics', 'prom-client', ['index', 'config']);
  });

  it('@bastion/redis-sentinel: the integration subpaths are exported, no entry loads an optional peer at run time, ./metrics loads prom-client only', async () => {
    const dir = join(workspace, 'libs/redis-sentinel');
    const { files } = await packer.pack('libs/redis-sentinel');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      exports: Record<string, { import?: string; types?: string }>;
    } & Manifest;
    const optional = Object.keys(pkg.peerDependenciesMeta ?? {});
    expect(optional.toSorted()).toEqual(['@nestjs/throttler', 'bullmq', 'keyv', 'prom-client']);
    for (const entry of ['index', 'bullmq', 'keyv', 'throttler', 'socket.io']) {
      expect(files).toEqual(expect.arrayContaining([`dist/${entry}.js`, `dist/${entry}.d.ts`]));
      if (entry !== 'index') {
        expect(pkg.exports[`./${entry}`]).toMatchObject({
          import: `./dist/${entry}.js`,
          types: `./dist/${entry}.d.ts`,
        });
      }
      // Types only: a user of one integration never needs the packages of the others.
      const loaded = [...importedPackages(join(dir, `dist/${entry}.js`))];
      expect(loaded.filter((p) => optional.includes(p) || p.startsWith('socket.io'))).toEqual([]);
    }
    // ./metrics is the one entry that loads prom-client, and it loads no other optional peer.
    expect(files).toEqual(expect.arrayContaining(['dist/metrics.js', 'dist/metrics.d.ts']));
    expect(pkg.exports['./metrics']).toMatchObject({
      import: './dist/metrics.js',
      types: './dist/metrics.d.ts',
    });
    const metrics = [...importedPackages(join(dir, 'dist/metrics.js'))];
    expect(metrics).toContain('prom-client');
    expect(metrics.filter((p) => p !== 'prom-client' && optional.includes(p))).toEqual([]);
  });

  it('@bastion/loki-logger never loads @bastion/secrets: it is an optional peer, met through a Symbol.for() key', () => {
    const dir = join(workspace, 'libs/loki-logger');
    expect(manifest(dir).peerDependenciesMeta?.['@bastion/secrets']?.optional).toBe(true);
    expect(importedPackages(join(dir, 'dist/index.js'))).not.toContain('@bastion/secrets');
  });

  it('@bastion/loki-logger: the main entry never loads prom-client; the ./metrics subpath does', async () => {
    await expectOnlySubpathLoads('loki-logger', 'metrics', 'prom-client');
  });

  it('@bastion/loki-logger never imports @opentelemetry/api: an optional peer, looked up only if installed', () => {
    const dir = join(workspace, 'libs/loki-logger');
    expect(manifest(dir).peerDependenciesMeta?.['@opentelemetry/api']?.optional).toBe(true);
    expect(importedPackages(join(dir, 'dist/index.js'))).not.toContain('@opentelemetry/api');
  });
});

/** Every installed package (nested ones too) with its declared Node range. */
function installedPackages(dir: string, found: { name: string; node: string }[] = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      installedPackages(path, found);
      continue;
    }
    try {
      const { name, engines } = manifest(path);
      if (engines?.node) found.push({ name, node: engines.node });
    } catch {
      // not a package folder
    }
    try {
      installedPackages(join(path, 'node_modules'), found);
    } catch {
      // no nested node_modules
    }
  }
  return found;
}

describe('engine warnings of npm ci', () => {
  it('each package whose engine excludes this Node is explained in the root README', () => {
    const unsupported = installedPackages(join(workspace, 'node_modules')).filter(
      ({ node }) => !semver.satisfies(process.versions.node, node),
    );
    const readme = readFileSync(join(workspace, 'README.md'), 'utf8');
    const unexplained = unsupported
      .filter(({ name }) => !readme.includes(`EBADENGINE ${name}`))
      .map(({ name, node }) => `${name} (node ${node})`);
    expect(unexplained, 'add a line "EBADENGINE <name>: why it does not matter" to README.md').toEqual([]);
  });
});
