/**
 * docker/README.md stays true to the repo: both ways to run are shown and exist, and every
 * docker/ path and Compose service the runbook's commands name exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER_DIR, loadCompose, readDockerFile, STACKS } from './stack-files.js';

const runbook = readDockerFile('README.md');
const rootPackage = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('docker/README.md', () => {
  it('shows both ways to run, and both exist', () => {
    expect(runbook).toContain('npm run demo');
    expect(rootPackage.scripts.demo).toBeDefined();
    expect(runbook).toContain('docker compose -f docker/docker-compose.yml up');
    expect(runbook).toContain('npm run test:docker');
    expect(rootPackage.scripts['test:docker']).toContain('test/docker');
  });

  it('names only files that exist under docker/', () => {
    const prefixed = [
      ...runbook.matchAll(/docker\/([\w./-]+\.(?:yml|yaml|sh|conf|alloy|json|example))/g),
    ].map((m) => m[1]!);
    // Paths in the file table are relative to docker/.
    const relative = [
      ...runbook.matchAll(
        /`((?:redis|swarm|loki|alloy|grafana|prometheus|secrets)\/[\w./-]+\.\w+|docker-compose[\w.-]*\.yml|Dockerfile[\w.]*)`/g,
      ),
    ].map((m) => m[1]!);
    const paths = new Set([...prefixed, ...relative]);
    expect(paths.size).toBeGreaterThan(10);
    for (const p of paths) expect(existsSync(join(DOCKER_DIR, p)), `docker/${p}`).toBe(true);
  });

  it('runs its commands against services the production stack has', () => {
    const services = Object.keys(loadCompose(STACKS.prod).services);
    const used = [
      ...runbook.matchAll(
        /\b(?:exec -T|kill|pause|start|unpause|--no-deps|logs -f --since 1m)\s+((?:[\w$-]+\s*)+)/g,
      ),
    ]
      .flatMap((m) => m[1]!.split(/\s+/))
      .filter((w) => /^(app|grafana|loki|alloy|redis-[\w-]+)$/.test(w));
    expect(used.length).toBeGreaterThan(5);
    for (const s of used) expect(services, s).toContain(s);
  });

  it('gives the failover and alert facts that match the configs', () => {
    const sentinel = readDockerFile('redis/sentinel.conf');
    const downAfter = Number(sentinel.match(/down-after-milliseconds mymaster (\d+)/)![1]);
    expect(runbook).toContain(`down-after-milliseconds (${downAfter / 1000} s)`);
    expect(runbook).toMatch(/quorum 2/);
    expect(runbook).toContain('+switch-master');
  });
});
