import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LibPacker, sh, tsc, workspace } from './consumer-app.js';

/**
 * Every ```ts block of each lib's README is compiled as a module of its own (strict, nodenext) in an
 * app that installed the packed libs, so a copied example works as printed. A block whose first line
 * is a file name comment (`// app-secrets.ts`) is saved under that name, so later blocks of the same
 * README can import it (`./app-secrets.js`) as files of one project would. Output and config samples
 * belong in ```text, ```json or ```yaml blocks.
 */
const READMES = ['libs/secrets/README.md', 'libs/redis-sentinel/README.md', 'libs/loki-logger/README.md'];

/** What a README example may import, besides our libs and Node's built-ins. */
const DEPENDENCIES = [
  // The integrations of @bastion/redis-sentinel's README (optional peers).
  '@nestjs/bullmq',
  '@nestjs/cache-manager',
  '@nestjs/platform-socket.io',
  '@nestjs/throttler',
  '@nestjs/websockets',
  '@socket.io/redis-adapter',
  'bullmq',
  'cache-manager',
  'keyv',
  'socket.io',
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/config',
  '@nestjs/terminus',
  '@nestjs/platform-express',
  '@types/express',
  'express',
  'ioredis',
  'nest-winston',
  // The libs' /metrics subpaths (an optional peer).
  'prom-client',
  'reflect-metadata',
  'rxjs',
  'winston',
];

interface Block {
  readonly readme: string;
  /** 1-based line of the block's first code line in the README. */
  readonly line: number;
  readonly code: string;
  readonly file: string;
}

/** The ```ts / ```typescript blocks of a markdown text, with their first line numbers. */
export function typescriptBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(\S*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const end = lines.findIndex((l, j) => j > i && l.trimStart().startsWith(fence) && l.trim() === fence);
    const close = end === -1 ? lines.length : end;
    if (lang === 'ts' || lang === 'typescript') {
      const body = lines.slice(i + 1, close).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
      blocks.push({ line: i + 2, code: body.join('\n') });
    }
    i = close;
  }
  return blocks;
}

const blocks: Block[] = READMES.flatMap((readme) =>
  typescriptBlocks(readFileSync(join(workspace, readme), 'utf8')).map(({ line, code }) => {
    const named = /^\/\/ ([\w.-]+\.ts)\s*$/.exec(code.split('\n')[0]);
    return {
      readme,
      line,
      code,
      file: `src/${readme.split('/')[1]}/${named ? named[1] : `line-${line}.ts`}`,
    };
  }),
);

/** A broken example, compiled alongside: proves that errors are found and traced back. */
const CANARY: Block = {
  readme: 'canary.md',
  line: 1,
  code: "import { SecretsService } from '@bastion/secrets';\nexport const n: number = SecretsService.name;\n",
  file: 'src/canary.ts',
};

const packer = new LibPacker();
afterAll(() => packer.dispose());

describe('README examples', () => {
  it('finds the ts blocks of every lib README, skipping other languages', () => {
    const sample = ['```sh', 'npm i', '```', '```ts', 'const a = 1;', '```', '```json', '{}', '```'].join(
      '\n',
    );
    expect(typescriptBlocks(sample)).toEqual([{ line: 5, code: 'const a = 1;' }]);
    for (const readme of READMES) expect(blocks.some((b) => b.readme === readme)).toBe(true);
    // Two blocks saved under one name would silently compile only the last.
    const files = blocks.map((b) => b.file);
    expect(files.filter((f, i) => files.indexOf(f) !== i)).toEqual([]);
  });

  it('every ts block compiles against the packed libs', { timeout: 300_000 }, async () => {
    const all = [...blocks, CANARY];
    const appDir = await packer.installApp({
      libs: ['libs/secrets', 'libs/redis-sentinel', 'libs/loki-logger'],
      dependencies: DEPENDENCIES,
      files: Object.fromEntries(all.map((b) => [b.file, b.code])),
      // A block without import/export is still a module of its own: names never clash across blocks.
      tsconfig: { moduleDetection: 'force', noEmit: true },
    });
    const result = await sh(process.execPath, [tsc, '-p', appDir, '--pretty', 'false'], appDir, 120_000).then(
      () => '',
      (error: Error) => error.message,
    );
    // "src/x/line-9.ts(3,5): error TS2322: ..." → "libs/x/README.md:11: error TS2322: ..."; an error
    // outside the blocks (a config or typings problem) is kept as tsc printed it.
    const problems = result
      .split('\n')
      .filter((l) => /\berror TS\d+/.test(l))
      .map((l) => {
        const m = /^(src\/[^(]+)\((\d+),\d+\): (error .*)$/.exec(l);
        const block = m && all.find((b) => b.file === m[1]);
        return block ? `${block.readme}:${block.line + Number(m[2]) - 1}: ${m[3]}` : l;
      });
    expect(problems.filter((p) => p.startsWith('canary.md:2: error TS2322'))).toHaveLength(1);
    expect(problems.filter((p) => !p.startsWith('canary.md'))).toEqual([]);
  });
});
