/**
 * Stand-ins for the images this machine cannot pull, built only inside the private daemon under
 * the exact names docker/Dockerfile and docker/swarm/stack.yml use:
 * - node:<NODE_VERSION>-bookworm-slim: Debian bookworm (debootstrap minbase) + this machine's
 *   own node binary and npm, a `node` user with uid 1000 (as the official image);
 * - redis:7.4-alpine: the same Debian base + Debian's redis-server/redis-tools (7.0) and a
 *   docker-entrypoint.sh that, like the official one, chowns /data and drops to the `redis` user;
 * - prom/prometheus (the tag stack.yml names): the same base + Debian's prometheus (2.42) and
 *   wget for the health check, entrypoint the binary, user nobody owning /prometheus, as the
 *   official image. The stack's flags and prometheus.swarm.yml read the same in 2.42 and 3.
 * Loki, Alloy and Grafana cannot be made here: the stack test leaves them out.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type PrivateDocker } from './daemon.js';

export const DEBIAN_BASE = 'bastion-stack/debian-minbase:bookworm';
export const REDIS_IMAGE = 'redis:7.4-alpine';

/** The debootstrap tarball is kept between runs here (a temporary folder, never in the repo). */
export const cacheDir = process.env.BASTION_STACK_CACHE ?? join(tmpdir(), 'bastion-stack-cache');

export function nodeVersionOfDockerfile(dockerfile: string): string {
  const m = /^ARG NODE_VERSION=(\S+)/m.exec(dockerfile);
  if (!m) throw new Error('docker/Dockerfile has no ARG NODE_VERSION');
  return m[1]!;
}

async function debianTarball(log: (s: string) => void): Promise<string> {
  const tar = join(cacheDir, 'bookworm-minbase.tar');
  if (existsSync(tar)) {
    log(`debian base: cached ${tar}`);
    return tar;
  }
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'rootfs-'));
  const t0 = Date.now();
  try {
    await run('debootstrap', ['--variant=minbase', 'bookworm', work, 'http://deb.debian.org/debian'], {
      timeoutMs: 600_000,
    });
    await run('sh', ['-c', `rm -rf '${work}'/var/cache/apt/archives/*.deb '${work}'/var/lib/apt/lists/*`]);
    await run('tar', ['-C', work, '-cf', `${tar}.part`, '.'], { timeoutMs: 300_000 });
    renameSync(`${tar}.part`, tar);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(`debian base: debootstrap in ${((Date.now() - t0) / 1000).toFixed(0)} s, cached in ${tar}`);
  return tar;
}

const REDIS_ENTRYPOINT = `#!/bin/sh
# Stand-in for the official redis image's docker-entrypoint.sh: as root, give /data to the redis
# user, then drop to it before exec'ing redis-server.
set -e
if [ "\${1#-}" != "$1" ] || [ "\${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \\! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
umask 0077
exec "$@"
`;

export async function buildBaseImages(
  d: PrivateDocker,
  nodeVersion: string,
  prometheusImage: string,
  log: (s: string) => void,
): Promise<void> {
  const tar = await debianTarball(log);
  await d.docker(['import', tar, DEBIAN_BASE], { timeoutMs: 300_000 });

  const ctx = mkdtempSync(join(tmpdir(), 'bastion-stack-ctx-'));
  try {
    // Node: this machine's binary (same glibc) and npm.
    const nodeBin = (await run('sh', ['-c', 'readlink -f "$(command -v node)"'])).stdout.trim();
    const npmDir = join((await run('npm', ['root', '-g'])).stdout.trim(), 'npm');
    const hostVersion = (await run(nodeBin, ['--version'])).stdout.trim().replace(/^v/, '');
    if (hostVersion !== nodeVersion) {
      log(
        `note: the Dockerfile pins Node ${nodeVersion}, this machine's node is ${hostVersion} (used as the stand-in)`,
      );
    }
    mkdirSync(join(ctx, 'node'));
    cpSync(nodeBin, join(ctx, 'node', 'node'));
    cpSync(npmDir, join(ctx, 'node', 'npm'), { recursive: true, verbatimSymlinks: true });
    writeFileSync(
      join(ctx, 'node', 'Dockerfile'),
      `FROM ${DEBIAN_BASE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=${nodeVersion}
CMD ["node"]
`,
    );
    // Redis: Debian's packages, installed in the build (the build container reaches Debian's mirror).
    mkdirSync(join(ctx, 'redis'));
    writeFileSync(join(ctx, 'redis', 'docker-entrypoint.sh'), REDIS_ENTRYPOINT, { mode: 0o755 });
    writeFileSync(
      join(ctx, 'redis', 'Dockerfile'),
      `FROM ${DEBIAN_BASE}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
`,
    );
    mkdirSync(join(ctx, 'prometheus'));
    writeFileSync(
      join(ctx, 'prometheus', 'Dockerfile'),
      `FROM ${DEBIAN_BASE}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus wget >/dev/null \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
VOLUME /prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
`,
    );
    const t0 = Date.now();
    await Promise.all([
      d.docker(['build', '-q', '-t', `node:${nodeVersion}-bookworm-slim`, join(ctx, 'node')], {
        timeoutMs: 600_000,
      }),
      d.docker(['build', '-q', '-t', REDIS_IMAGE, join(ctx, 'redis')], { timeoutMs: 600_000 }),
      d.docker(['build', '-q', '-t', prometheusImage, join(ctx, 'prometheus')], { timeoutMs: 600_000 }),
    ]);
    log(
      `stand-in images node:${nodeVersion}-bookworm-slim, ${REDIS_IMAGE} and ${prometheusImage} built in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
