/**
 * Every Compose and stack file under docker/ is valid: against the Compose specification's JSON
 * schema, and the Swarm stack also through `docker stack config` (the Docker CLI's own loader,
 * offline) when the CLI is installed. Each validator is also shown a broken file, so a validator
 * that accepts anything fails here.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  DOCKER_DIR,
  OVERRIDES,
  STACKS,
  dockerCliAvailable,
  dockerStackConfig,
  loadCompose,
  readDockerFile,
  validateComposeSchema,
} from './stack-files.js';

const ALL_FILES = [...Object.values(STACKS), ...Object.values(OVERRIDES)];
const hasDocker = dockerCliAvailable();

describe('Compose and stack files validate', () => {
  it.each(ALL_FILES)('%s matches the Compose specification schema', (file) => {
    expect(validateComposeSchema(loadCompose(file))).toEqual([]);
  });

  it('the schema check rejects a misspelt key and a wrong type', () => {
    const typo = loadCompose(STACKS.prod) as unknown as { services: Record<string, Record<string, unknown>> };
    typo.services.app!.helthcheck = typo.services.app!.healthcheck;
    expect(validateComposeSchema(typo).join('\n')).toMatch(/additional/i);
    const wrongType = loadCompose(STACKS.prod) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    wrongType.services['redis-master']!.depends_on = { 'redis-replica-1': { condition: 'service_ready' } };
    expect(validateComposeSchema(wrongType)).not.toEqual([]);
  });

  it.runIf(hasDocker)('swarm/stack.yml passes `docker stack config` (Docker CLI, offline)', () => {
    const res = dockerStackConfig(join(DOCKER_DIR, STACKS.swarm));
    expect(res.output).not.toMatch(/error|invalid|not allowed/i);
    expect(res.ok).toBe(true);
    // Octal modes reach Swarm as the intended permission bits (0400 = 256), not as decimal 400.
    expect(res.output).toMatch(/mode: 256/);
  });

  it.runIf(hasDocker)('`docker stack config` rejects a stack with an unknown key', () => {
    const bad = join(DOCKER_DIR, STACKS.swarm).replace(/stack\.yml$/, '.invalid-stack-for-test.yml');
    // Written next to the real file (relative config paths resolve), removed right after.
    const text = readDockerFile(STACKS.swarm).replace('  app:\n', '  app:\n    restrat: always\n');
    return import('node:fs').then(({ writeFileSync, rmSync }) => {
      writeFileSync(bad, text);
      try {
        const res = dockerStackConfig(bad);
        expect(res.ok).toBe(false);
        expect(res.output).toMatch(/restrat/);
      } finally {
        rmSync(bad, { force: true });
      }
    });
  });

  it.each(ALL_FILES)('%s: every file it mounts as a config or secret exists', (file) => {
    const doc = loadCompose(file);
    const base = dirname(join(DOCKER_DIR, file));
    for (const [name, cfg] of Object.entries(doc.configs ?? {})) {
      expect(existsSync(join(base, cfg.file!)), `config ${name}: ${cfg.file}`).toBe(true);
    }
    for (const [name, s] of Object.entries(doc.secrets ?? {})) {
      // Production secret files are generated on the host (git-ignored): only the examples must exist.
      if (s.file?.endsWith('.example')) expect(existsSync(join(base, s.file)), `secret ${name}`).toBe(true);
    }
  });
});
