/**
 * Rules the schema cannot see, checked on the dev, prod and Swarm stacks: declared secrets and
 * configs, the app pointed at all three Sentinels, quorum 2 of 3, healthchecks behind every
 * `service_healthy`, limits, one volume per stateful node, no secret value in any file, and the
 * logging-driver override in non-blocking mode.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import {
  DOCKER_DIR,
  OVERRIDES,
  STACKS,
  envOf,
  loadCompose,
  readDockerFile,
  refName,
  volumeSource,
  type ComposeFile,
} from './stack-files.js';

const stacks = Object.entries(STACKS).map(([kind, file]) => ({ kind, file, doc: loadCompose(file) }));
const sentinelNames = (doc: ComposeFile) =>
  Object.keys(doc.services).filter((s) => /^redis-sentinel-\d+$/.test(s));
const dataNodeNames = (doc: ComposeFile) =>
  Object.keys(doc.services).filter((s) => /^redis-(master|replica-\d+)$/.test(s));

/** Which template a Redis container starts from: REDIS_TEMPLATE, mapped back to the repo file via its config. */
function templateOf(doc: ComposeFile, service: string): string {
  const svc = doc.services[service]!;
  const target = envOf(svc).REDIS_TEMPLATE;
  const cfg = (svc.configs ?? []).find((c) => typeof c !== 'string' && c.target === target);
  expect(cfg, `${service}: REDIS_TEMPLATE ${target} is not mounted`).toBeDefined();
  const file = doc.configs![refName(cfg!)]!.file!;
  return file.replace(/^(\.\.\/|\.\/)+/, '');
}

describe.each(stacks)('$file ($kind)', ({ doc }) => {
  it('has the whole topology: app, master, 2 replicas, 3 Sentinels, Loki, Alloy, Prometheus, Grafana', () => {
    expect(Object.keys(doc.services).toSorted()).toEqual(
      [
        'alloy',
        'app',
        'grafana',
        'loki',
        'prometheus',
        'redis-master',
        'redis-replica-1',
        'redis-replica-2',
        'redis-sentinel-1',
        'redis-sentinel-2',
        'redis-sentinel-3',
      ].toSorted(),
    );
  });

  it('declares every secret, config, volume and network a service uses', () => {
    for (const [name, svc] of Object.entries(doc.services)) {
      for (const s of svc.secrets ?? [])
        expect(doc.secrets, `${name} uses secret ${refName(s)}`).toHaveProperty(refName(s));
      for (const c of svc.configs ?? [])
        expect(doc.configs, `${name} uses config ${refName(c)}`).toHaveProperty(refName(c));
      for (const v of svc.volumes ?? []) {
        const src = volumeSource(v);
        if (!src.startsWith('/') && !src.startsWith('.'))
          expect(doc.volumes, `${name} uses volume ${src}`).toHaveProperty(src);
      }
      const nets = Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? {});
      for (const n of nets) expect(doc.networks, `${name} uses network ${n}`).toHaveProperty(n);
    }
  });

  it('gives the app REDIS_SENTINELS naming all three Sentinels on the port their config listens on', () => {
    const env = envOf(doc.services.app!);
    const sentinelPort = readDockerFile('redis/sentinel.conf').match(/^port (\d+)$/m)![1];
    const listed = env.REDIS_SENTINELS!.split(',').map((hp) => hp.trim());
    expect(listed.toSorted()).toEqual(
      sentinelNames(doc)
        .map((s) => `${s}:${sentinelPort}`)
        .toSorted(),
    );
    expect(sentinelNames(doc)).toHaveLength(3);
    expect(env.REDIS_MASTER_NAME).toBe('mymaster');
    // The app reads its passwords from files, and gets the ones it needs.
    expect(env.SECRETS_DIR ?? '/run/secrets').toBe('/run/secrets');
    const appSecrets = (doc.services.app!.secrets ?? []).map(refName);
    expect(appSecrets).toEqual(
      expect.arrayContaining(['redis_password', 'sentinel_password', 'session_secret']),
    );
  });

  it('gives the app only environment variables the app reads (a typo would be silently ignored)', () => {
    const appSrc = fileURLToPath(new URL('../../apps/sample-app/src/', import.meta.url));
    const names = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else if (full.endsWith('.ts')) {
          // Quoted ('PORT') or a schema key (PORT: v.optional(...)).
          for (const m of readFileSync(full, 'utf8').matchAll(
            /['"`]([A-Z][A-Z0-9_]{2,})['"`]|^\s*([A-Z][A-Z0-9_]{2,})\s*:/gm,
          ))
            names.add((m[1] ?? m[2])!);
        }
      }
    };
    walk(appSrc);
    expect(names).toContain('REDIS_SENTINELS');
    for (const key of Object.keys(envOf(doc.services.app!)))
      expect(names, `app does not read ${key}`).toContain(key);
  });

  it('runs every Sentinel from sentinel.conf, which monitors the master service with quorum 2 of 3', () => {
    const conf = readDockerFile('redis/sentinel.conf');
    const monitor = conf.match(/^sentinel monitor (\S+) (\S+) (\d+) (\d+)$/m);
    expect(monitor).not.toBeNull();
    const [, master, host, port, quorum] = monitor!;
    expect(master).toBe(envOf(doc.services.app!).REDIS_MASTER_NAME);
    expect(doc.services).toHaveProperty(host!);
    expect(port).toBe(readDockerFile('redis/redis-master.conf').match(/^port (\d+)$/m)![1]);
    expect(Number(quorum)).toBe(2);
    // A majority of the Sentinels, so one partitioned Sentinel can never fail over alone.
    expect(Number(quorum)).toBeGreaterThan(sentinelNames(doc).length / 2);
    for (const s of sentinelNames(doc)) {
      expect(templateOf(doc, s)).toBe('redis/sentinel.conf');
      expect(envOf(doc.services[s]!).REDIS_ANNOUNCE_HOST).toBe(s);
      expect((doc.services[s]!.secrets ?? []).map(refName).toSorted()).toEqual([
        'redis_password',
        'sentinel_password',
      ]);
    }
    expect(templateOf(doc, 'redis-master')).toBe('redis/redis-master.conf');
    for (const r of ['redis-replica-1', 'redis-replica-2'])
      expect(templateOf(doc, r)).toBe('redis/redis-replica.conf');
  });

  it('gives every Redis node and Sentinel its own volume (they rewrite their config there)', () => {
    const volumes = [...dataNodeNames(doc), ...sentinelNames(doc)].map((s) => {
      const data = (doc.services[s]!.volumes ?? []).find(
        (v) => typeof v === 'string' && v.endsWith(':/data'),
      );
      expect(data, `${s} has no /data volume`).toBeDefined();
      return volumeSource(data!);
    });
    expect(new Set(volumes).size).toBe(volumes.length);
  });

  it('sets a memory limit on every service', () => {
    for (const [name, svc] of Object.entries(doc.services)) {
      expect(svc.deploy?.resources?.limits?.memory, `${name} has no memory limit`).toMatch(/^\d+[MG]$/);
    }
  });

  it('has a healthcheck on every service except Alloy (no HTTP client in its image), the app probing /health/live', () => {
    for (const [name, svc] of Object.entries(doc.services)) {
      if (name === 'alloy') continue;
      expect(svc.healthcheck?.test, `${name} has no healthcheck`).toBeDefined();
    }
    expect(JSON.stringify(doc.services.app!.healthcheck!.test)).toContain('/health/live');
  });
});

describe.each(stacks.filter((s) => s.kind !== 'swarm'))('$file (Compose)', ({ doc }) => {
  it('restarts every service and waits on healthchecks that exist', () => {
    for (const [name, svc] of Object.entries(doc.services)) {
      expect(svc.restart, `${name} has no restart policy`).toMatch(/^(unless-stopped|always|on-failure)/);
      const deps = svc.depends_on && !Array.isArray(svc.depends_on) ? svc.depends_on : {};
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(doc.services).toHaveProperty(dep);
        if (condition === 'service_healthy') {
          expect(
            doc.services[dep]!.healthcheck?.test,
            `${name} waits for ${dep} to be healthy`,
          ).toBeDefined();
        }
      }
    }
    const appDeps = Object.keys(doc.services.app!.depends_on as Record<string, unknown>);
    // The Sentinels, and the replicas in sync (min-replicas-to-write refuses writes before that).
    expect(appDeps.toSorted()).toEqual(
      [...sentinelNames(doc), ...dataNodeNames(doc).filter((n) => n.includes('replica'))].toSorted(),
    );
    // Redis is not published: only the app (and Grafana) are reachable from outside.
    expect(doc.networks!.backend!.internal).toBe(true);
    for (const s of [...dataNodeNames(doc), ...sentinelNames(doc)])
      expect(doc.services[s]!.ports).toBeUndefined();
  });

  it('reads the Grafana admin password from a secret file', () => {
    const env = envOf(doc.services.grafana!);
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    const file = env.GF_SECURITY_ADMIN_PASSWORD__FILE!;
    expect(file).toMatch(/^\/run\/secrets\//);
    expect((doc.services.grafana!.secrets ?? []).map(refName)).toContain(file.replace('/run/secrets/', ''));
  });
});

describe('swarm/stack.yml (Swarm)', () => {
  const doc = stacks.find((s) => s.kind === 'swarm')!.doc;

  it('uses external secrets, spreads the Sentinels over distinct nodes and rolls updates back', () => {
    for (const [name, s] of Object.entries(doc.secrets!)) {
      expect(s.external, `${name} must be external`).toBe(true);
      expect(s.name).toMatch(/_v\d+\}?$/);
    }
    const sentinelNodes = sentinelNames(doc).map((s) =>
      doc.services[s]!.deploy!.placement!.constraints!.join(','),
    );
    expect(new Set(sentinelNodes).size).toBe(3);
    for (const s of sentinelNames(doc))
      expect(doc.services[s]!.deploy!.placement!.max_replicas_per_node).toBe(1);
    const dataNodes = dataNodeNames(doc).map((s) =>
      doc.services[s]!.deploy!.placement!.constraints!.join(','),
    );
    expect(new Set(dataNodes).size).toBe(3);
    const app = doc.services.app!.deploy!;
    expect(app.replicas).toBeGreaterThanOrEqual(2);
    expect(app.update_config).toMatchObject({ failure_action: 'rollback', order: 'start-first' });
    expect(app.rollback_config).toBeDefined();
    expect(doc.networks!.backend!.driver_opts!.encrypted).toBe('true');
    expect(doc.services.alloy!.deploy!.mode).toBe('global');
  });
});

describe('no secret value in any file under docker/ (examples aside)', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(DOCKER_DIR);
  const secretsDir = join(DOCKER_DIR, 'secrets');
  const scanned = files.filter((f) => !f.startsWith(secretsDir));
  const exampleValues = files
    .filter((f) => f.startsWith(secretsDir) && f.endsWith('.example'))
    .map((f) => readFileSync(f, 'utf8').trim());

  it('scans the compose files, configs, Dockerfile and scripts', () => {
    expect(exampleValues.length).toBe(5);
    expect(scanned.map((f) => relative(DOCKER_DIR, f))).toEqual(
      expect.arrayContaining([
        'Dockerfile',
        'docker-compose.prod.yml',
        'redis/sentinel.conf',
        'swarm/stack.yml',
      ]),
    );
  });

  it('contains none of the example secret values and no inline password', () => {
    for (const file of scanned) {
      const text = readFileSync(file, 'utf8');
      const name = relative(DOCKER_DIR, file);
      for (const value of exampleValues)
        expect(text.includes(value), `${name} contains a secret value`).toBe(false);
      // Directives that would carry a password inline: only a variable or nothing may follow.
      // (Prose is exempt: the runbook names secret-name variables such as REDIS_PASSWORD_SECRET.)
      if (name.endsWith('.md')) continue;
      for (const line of text.split('\n')) {
        if (/^\s*(#|\/\/)/.test(line)) continue;
        expect(line, `${name}: inline password`).not.toMatch(/^\s*(requirepass|masterauth)\s+[^"$\s]/);
        expect(line, `${name}: inline password`).not.toMatch(
          /sentinel (auth-pass|sentinel-pass) \S+ [^"$\s]/,
        );
        expect(line, `${name}: inline password`).not.toMatch(/(--requirepass|-a) ['"]?[A-Za-z0-9]/);
        expect(line, `${name}: password in environment`).not.toMatch(
          /^\s*-?\s*[A-Z_]*(PASSWORD|SECRET|TOKEN)[A-Z_]*\s*[:=]\s*['"]?[^'"\s$/{]/,
        );
      }
    }
  });

  it('passes secrets to containers only as files, never as environment values', () => {
    for (const file of [...Object.values(STACKS), ...Object.values(OVERRIDES)]) {
      const doc = loadCompose(file);
      for (const [name, svc] of Object.entries(doc.services)) {
        for (const [key, value] of Object.entries(envOf(svc))) {
          // A path to a secret file (`*_FILE`, SECRETS_DIR) is fine; a value is not.
          if (/PASSWORD|SECRET|TOKEN/.test(key))
            expect(String(value), `${file} ${name} ${key}`).toMatch(/^\/run\/secrets(\/|$)/);
        }
      }
    }
  });
});

describe('docker-compose.loki-driver.yml (optional Docker logging driver)', () => {
  const doc = loadCompose(OVERRIDES.lokiDriver);
  const logging = doc.services.app!.logging!;
  const opts = logging.options!;

  it('uses the loki driver in non-blocking mode with a bounded buffer', () => {
    expect(logging.driver).toBe('loki');
    expect(opts.mode).toBe('non-blocking');
    expect(opts['max-buffer-size']).toMatch(/^\d+[kmg]$/i);
  });

  it('gives up on a batch quickly (finite retries, short backoff and timeout) and keeps the local file', () => {
    const retries = Number(opts['loki-retries']);
    expect(retries).toBeGreaterThan(0); // 0 = retry forever
    expect(retries).toBeLessThanOrEqual(5);
    expect(opts['loki-max-backoff']).toMatch(/^\d+(ms|s)$/);
    expect(opts['loki-timeout']).toMatch(/^\d+(ms|s)$/);
    expect(opts['keep-file']).toBe('true');
    // Docker passes log-opts as strings: a YAML number or boolean would be rejected by the daemon.
    for (const [k, v] of Object.entries(opts)) expect(typeof v, k).toBe('string');
  });

  it('explains why the blocking default is dangerous, and keeps Alloy from collecting the same lines', () => {
    const text = readDockerFile(OVERRIDES.lokiDriver);
    expect(text).toMatch(/blocking/);
    expect(text).toMatch(/freez|hang|block/i);
    const labels = doc.services.app!.labels as Record<string, string>;
    expect(labels['bastion.logs.collector']).toBe('docker-driver');
    expect(readDockerFile('alloy/config.alloy')).toContain(
      '__meta_docker_container_label_bastion_logs_collector',
    );
  });
});
