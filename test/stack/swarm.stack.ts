/**
 * docker/swarm/stack.yml on a real Docker engine and a single-node Swarm (issue 11).
 *
 *   npm run test:stack
 *
 * A private dockerd (own data root, exec root, pidfile and socket under a temporary folder),
 * stand-in base images under the names the Dockerfile and the stack use, the app image built
 * from docker/Dockerfile, `docker stack deploy` of the stack plus the test override
 * (test-stack.ts), then the scenarios of the issue under a job load. Figures are printed.
 * Skips where a private engine cannot run; under CI=true that is a failure.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBaseImages, nodeVersionOfDockerfile } from './base-images.js';
import { PrivateDocker, run, whyImpossible } from './daemon.js';
import { JobLoad, sleep, type Attempt } from './load.js';
import { DATA_NODES, SENTINELS, Stack, waitFor, STACK } from './stack-ops.js';
import { testStack } from './test-stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const APP_IMAGE = 'bastion/sample-app:0.1.0';
/** The build context: the checkout itself, as users build (BASTION_STACK_CONTEXT: another tree, e.g. a `git archive`). */
const buildContext = process.env.BASTION_STACK_CONTEXT ?? root;
const SECRET_NAMES = ['redis_password', 'sentinel_password', 'session_secret', 'loki_password'];

const impossible = await whyImpossible();
if (impossible && process.env.CI === 'true') {
  throw new Error(`test:stack cannot run on this machine under CI=true: ${impossible}`);
}
if (impossible) console.warn(`test:stack SKIPPED: ${impossible}`);

const t0 = Date.now();
const log = (s: string) => console.log(`[stack ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);
const figures: string[] = [];
const figure = (s: string) => {
  figures.push(s);
  log(s);
};

describe.skipIf(!!impossible)('docker/swarm/stack.yml on a real engine (single-node Swarm)', () => {
  let d: PrivateDocker;
  let stack: Stack;
  let stackFile: string;
  const secrets: Record<string, string> = {};
  /** Every value a secret ever had in this run: none may leak. */
  const secretValues: string[] = [];
  const expected: Record<string, number> = {};
  const accepted: string[] = [];
  let appTargets: string[] = [];
  let targetsTimer: NodeJS.Timeout | undefined;
  let tiltMark = 0;

  const refreshTargets = async () => {
    appTargets = [...(await stack.appAddresses()).values()];
  };

  const runDeploy = (env: Record<string, string>) =>
    run('docker', ['stack', 'deploy', '--detach=true', '-c', stackFile, STACK], {
      env: { ...d.env, ...env },
      timeoutMs: 180_000,
    });

  /** `otherStatuses`: answers other than 202/503 are allowed (and printed) in this scenario. */
  const withLoad = async <T>(
    label: string,
    body: (load: JobLoad) => Promise<T>,
    otherStatuses = false,
  ): Promise<T> => {
    const load = new JobLoad(() => appTargets);
    load.start();
    try {
      return await body(load);
    } finally {
      const s = await load.stop();
      accepted.push(...load.accepted.map((a) => a.id!));
      figure(
        `${label}: ${s.requests} requests, ${s.accepted} jobs accepted (202), ${s.answered503} answered 503, ${s.noAnswer} without an answer ${JSON.stringify(s.noAnswerBy)}, ${s.other} other, longest ${s.longestMs} ms`,
      );
      if (s.other) {
        const byStatus = load.attempts
          .filter((a) => ![0, 202, 503].includes(a.status))
          .reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
        figure(`${label}: other answers by status ${JSON.stringify(byStatus)}`);
      }
      if (!otherStatuses) expect(s.other).toBe(0);
    }
  };

  /** Every job accepted so far exists on every data node (replication given a few seconds). */
  const assertNoJobLost = async (label: string) => {
    const master = await waitFor('a settled topology', 120_000, () => stack.settled(), 1000);
    const missing = await Promise.all(
      DATA_NODES.map((node) =>
        waitFor(
          `every accepted job on ${node}`,
          20_000,
          async () => ((await stack.missingJobs(node, accepted)).length === 0 ? [] : undefined),
          1000,
        ).catch(async () => stack.missingJobs(node, accepted)),
      ),
    );
    figure(
      `${label}: ${accepted.length} jobs accepted so far; missing: ${DATA_NODES.map((n, i) => `${n}${n === master ? ' (master)' : ''} ${missing[i]!.length}`).join(', ')}`,
    );
    expect(missing).toEqual([[], [], []]);
    return master;
  };

  /** Every scenario starts from a healthy stack (the previous one may still be settling). */
  const allHealthy = () =>
    waitFor('every task healthy', 180_000, async () => (await stack.unhealthy(expected)).length === 0, 1000);

  const tilts = async () =>
    (await stack.logs(SENTINELS)).filter((l) => /[+]tilt/.test(l.line)).map((l) => ({ ...l }));

  const reportTilts = async (label: string) => {
    const all = await tilts();
    const since = all.filter((l) => l.t >= tiltMark);
    tiltMark = Date.now();
    figure(
      `${label}: TILT episodes ${since.length}${since.length ? ` (${since.map((l) => `${l.service} @${new Date(l.t).toISOString().slice(11, 23)}`).join(', ')})` : ''}`,
    );
    return since.length;
  };

  /** Fault → first +switch-master, and +switch-master → first job accepted after it. */
  const failoverTimes = async (label: string, fault: number, attempts: Attempt[]) => {
    const sentinelLines = (await stack.logs(SENTINELS)).filter((l) => l.t >= fault);
    const sw = sentinelLines.find((l) => /\+switch-master/.test(l.line));
    const marks = [
      '+sdown master',
      '+odown',
      '+try-failover',
      '+selected-slave',
      '+switch-master',
      '+convert-to-slave',
    ]
      .map((m) => {
        const l = sentinelLines.find((x) => x.line.includes(m));
        return l ? `${m} +${((l.t - fault) / 1000).toFixed(1)} s` : undefined;
      })
      .filter(Boolean);
    figure(`${label}: Sentinel events after the fault: ${marks.join(', ') || 'none'}`);
    if (!sw) {
      figure(`${label}: no +switch-master (no failover)`);
      return undefined;
    }
    const firstAfter = attempts
      .filter((a) => a.status === 202 && a.end >= sw.t)
      .toSorted((a, b) => a.end - b.end)[0];
    figure(
      `${label}: fault -> +switch-master ${((sw.t - fault) / 1000).toFixed(1)} s; +switch-master -> first accepted job ${firstAfter ? ((firstAfter.end - sw.t) / 1000).toFixed(1) + ' s' : 'none'}`,
    );
    return sw.t;
  };

  beforeAll(async () => {
    d = new PrivateDocker();
    const stopOnExit = () => void d.stop();
    process.once('SIGINT', stopOnExit);
    process.once('SIGTERM', stopOnExit);
    log(`private dockerd in ${d.dir}`);
    await d.start();
    await d.docker(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
    stack = new Stack(d);

    const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
    const prometheusImage = /^\s+image: (prom\/prometheus:\S+)$/m.exec(
      readFileSync(join(root, 'docker/swarm/stack.yml'), 'utf8'),
    )![1]!;
    await buildBaseImages(d, nodeVersionOfDockerfile(dockerfile), prometheusImage, log);

    // The app image as users build it; npm reaches the registry with this machine's CA bundle
    // (the host npm config's cafile) through the Dockerfile's optional npm_ca BuildKit secret.
    const cafile = (await run('npm', ['config', 'get', 'cafile'])).stdout.trim();
    const secretArgs =
      cafile && cafile !== 'null' && cafile !== 'undefined' ? ['--secret', `id=npm_ca,src=${cafile}`] : [];
    const tb = Date.now();
    await run(
      '/usr/bin/docker',
      ['build', '-q', '-f', 'docker/Dockerfile', '-t', APP_IMAGE, ...secretArgs, '.'],
      { env: { ...d.env, DOCKER_BUILDKIT: '1' }, timeoutMs: 480_000, cwd: buildContext },
    );
    figure(`app image built from docker/Dockerfile in ${((Date.now() - tb) / 1000).toFixed(0)} s`);
    const history = (await d.docker(['history', '--no-trunc', APP_IMAGE])).stdout;
    expect(history).not.toMatch(/npm_ca|BEGIN CERTIFICATE/);

    for (const name of SECRET_NAMES) {
      secrets[name] = randomBytes(24).toString('base64url');
      secretValues.push(secrets[name]);
      await d.docker(['secret', 'create', `bastion_${name}_v1`, '-'], { input: secrets[name] });
    }

    const generated = testStack(join(root, 'docker/swarm/stack.yml'));
    stackFile = join(d.dir, 'stack.test.yml');
    writeFileSync(stackFile, generated.yaml);
    for (const s of generated.services) expected[s] = s === 'app' ? 2 : 1;
    const td = Date.now();
    tiltMark = td;
    await runDeploy({});
    const unhealthy = await waitFor(
      'every task healthy by its own health check',
      240_000,
      async () => ((await stack.unhealthy(expected)).length === 0 ? true : undefined),
      1000,
    ).catch(async (err: Error) => {
      log((await d.docker(['stack', 'ps', '--no-trunc', STACK], { allowFail: true })).stdout);
      throw err;
    });
    expect(unhealthy).toBe(true);
    figure(
      `time to healthy (every task by its own Docker health check): ${((Date.now() - td) / 1000).toFixed(0)} s after docker stack deploy`,
    );
    await refreshTargets();
    targetsTimer = setInterval(() => void refreshTargets().catch(() => undefined), 1000);
  }, 900_000);

  afterAll(async () => {
    if (targetsTimer) clearInterval(targetsTimer);
    try {
      if (stack) await reportTilts('end of run');
    } catch {
      /* the report is best effort */
    }
    console.log(
      `\n=== test:stack figures ===\n${figures.join('\n')}\n=== total ${((Date.now() - t0) / 1000).toFixed(0)} s ===`,
    );
    await d?.stop();
  }, 180_000);

  it('every task is healthy, /health/ready is 200 with secrets from /run/secrets (uid 1000, mode 0400)', async () => {
    expect(appTargets).toHaveLength(2);
    for (const ip of appTargets) {
      const res = await fetch(`http://${ip}:3000/health/ready`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { info?: Record<string, { status: string; sources?: unknown }> };
      expect(res.status).toBe(200);
      expect(body.info?.secrets?.status).toBe('up');
      expect(JSON.stringify(body.info?.secrets)).toContain('directory');
    }
    for (const c of await stack.running('app')) {
      const out = (
        await stack.exec(c.id, [
          'stat',
          '-L',
          '-c',
          '%n %u %g %a',
          ...SECRET_NAMES.map((s) => `/run/secrets/${s}`),
        ])
      ).stdout;
      for (const name of SECRET_NAMES) expect(out).toContain(`/run/secrets/${name} 1000 1000 400`);
    }
    await reportTilts('startup');
  });

  it('Prometheus scrapes every app task (tasks.app) and evaluates the alert rules without error', async () => {
    const [prom] = await stack.running('prometheus');
    expect(prom).toBeDefined();
    const api = async <T>(path: string): Promise<T> => {
      const out = (
        await stack.exec(prom!.id, ['wget', '-q', '-T', '5', '-O', '-', `http://127.0.0.1:9090${path}`])
      ).stdout;
      return (JSON.parse(out) as { data: T }).data;
    };
    const tp = Date.now();
    // One scrape every 15 s (the stack's interval): both tasks found through Docker DNS and up.
    await waitFor(
      'Prometheus scraping both app tasks',
      90_000,
      async () => {
        const targets = await api<{
          activeTargets: { labels: { job: string; instance: string }; health: string }[];
        }>('/api/v1/targets');
        const app = targets.activeTargets.filter((t) => t.labels.job === 'sample-app');
        return app.length === 2 && app.every((t) => t.health === 'up') ? app : undefined;
      },
      2000,
    );
    const instances = (
      await api<{ result: { metric: { instance: string } }[] }>(
        `/api/v1/query?query=${encodeURIComponent('bastion_redis_client_ready{client="default"} == 1')}`,
      )
    ).result.map((r) => r.metric.instance);
    // Each task on its own (its overlay address), not one of them twice through the service's name.
    expect(new Set(instances).size).toBe(2);
    const rules = await waitFor(
      'every alert rule evaluated',
      60_000,
      async () => {
        const data = await api<{
          groups: { rules: { name: string; health: string; lastError?: string }[] }[];
        }>('/api/v1/rules');
        const all = data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
      },
      2000,
    );
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
    figure(
      `prometheus: both app tasks scraped through tasks.app, ${rules.length} rules evaluated, ${((Date.now() - tp) / 1000).toFixed(0)} s after the stack was healthy`,
    );
  });

  it('no secret value in docker inspect, the environment or the logs', async () => {
    const containers = await stack.containers(true);
    const texts: Array<[string, string]> = (
      await Promise.all(
        containers.map(async (c): Promise<Array<[string, string]>> => {
          const logs = await d.docker(['logs', c.id], { allowFail: true });
          const out: Array<[string, string]> = [
            [`inspect ${c.service}`, (await d.docker(['inspect', c.id])).stdout],
            [`logs ${c.service}`, logs.stdout + logs.stderr],
          ];
          if (c.state === 'running') out.push([`env ${c.service}`, (await stack.exec(c.id, ['env'])).stdout]);
          return out;
        }),
      )
    ).flat();
    const services = (await d.docker(['service', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
    texts.push(['service inspect', (await d.docker(['service', 'inspect', ...services])).stdout]);
    const leaks = texts.flatMap(([where, text]) =>
      secretValues.filter((v) => text.includes(v)).map(() => where),
    );
    figure(
      `secret scan: ${texts.length} inspect/env/log texts of ${containers.length} containers, ${leaks.length} leaks`,
    );
    expect(leaks).toEqual([]);
  });

  it('docker kill of the master: Swarm restarts it, the app follows, no accepted job lost, no data wiped', async () => {
    await allHealthy();
    const master = await waitFor('a settled topology', 60_000, () => stack.settled(), 1000);
    await withLoad('kill master', async (load) => {
      await sleep(3000);
      const before = await stack.dbsize();
      const victim = await stack.one(master);
      const fault = Date.now();
      await d.docker(['kill', victim.id]);
      await waitFor(
        'the killed node back and the topology settled',
        120_000,
        async () => {
          const r = await stack.running(master);
          return r.length === 1 && r[0]!.id !== victim.id && (await stack.settled());
        },
        1000,
      );
      figure(
        `kill master: ${master} back and topology settled ${((Date.now() - fault) / 1000).toFixed(1)} s after the kill; master now ${await stack.settled()}`,
      );
      await failoverTimes('kill master', fault, load.attempts);
      await sleep(3000);
      const after = await stack.dbsize();
      figure(`kill master: keys before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
      for (const n of DATA_NODES) expect(after[n]).toBeGreaterThanOrEqual(before[master]! - 0);
    });
    await assertNoJobLost('kill master');
    await reportTilts('kill master');
  });

  it('master frozen (docker pause): the Sentinels fail over, the app follows, the old master returns as a replica', async () => {
    await allHealthy();
    const master = await waitFor('a settled topology', 60_000, () => stack.settled(), 1000);
    await withLoad('pause master', async (load) => {
      await sleep(3000);
      const before = await stack.dbsize();
      const victim = await stack.one(master);
      const fault = Date.now();
      await d.docker(['pause', victim.id]);
      let switched: number | undefined;
      try {
        switched = await waitFor(
          '+switch-master',
          60_000,
          async () => {
            const l = (await stack.logs(SENTINELS)).find(
              (x) => x.t >= fault && /\+switch-master/.test(x.line),
            );
            return l?.t;
          },
          1000,
        );
        await sleep(3000);
      } finally {
        await d.docker(['unpause', victim.id]);
      }
      figure(`pause master: frozen ${((Date.now() - fault) / 1000).toFixed(1)} s`);
      const newMaster = await waitFor(
        'the topology settled with a new master',
        120_000,
        async () => {
          const m = await stack.settled();
          return m && m !== master ? m : undefined;
        },
        1000,
      );
      await failoverTimes('pause master', fault, load.attempts);
      figure(`pause master: ${master} -> ${newMaster}; ${master} is now ${(await stack.roles())[master]}`);
      expect(switched).toBeDefined();
      await sleep(3000);
      const after = await stack.dbsize();
      figure(`pause master: keys before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
      for (const n of DATA_NODES) expect(after[n]).toBeGreaterThanOrEqual(before[master]!);
    });
    await assertNoJobLost('pause master');
    await reportTilts('pause master');
  });

  it('kill one Sentinel: the app stays ready, the Sentinel comes back with a quorum of 3', async () => {
    await allHealthy();
    const victim = await stack.one('redis-sentinel-2');
    const fault = Date.now();
    await withLoad('kill sentinel', async () => {
      await d.docker(['kill', victim.id]);
      await sleep(2000);
      for (const ip of appTargets) {
        const res = await fetch(`http://${ip}:3000/health/ready`, { signal: AbortSignal.timeout(5000) });
        expect(res.status).toBe(200);
      }
      await waitFor(
        'the Sentinel back and healthy',
        90_000,
        async () => {
          const r = (await stack.running('redis-sentinel-2')).filter((c) => c.id !== victim.id);
          return r.length === 1 && /\(healthy\)/.test(r[0]!.status);
        },
        1000,
      );
    });
    figure(
      `kill sentinel: redis-sentinel-2 healthy again ${((Date.now() - fault) / 1000).toFixed(1)} s after the kill`,
    );
    for (const s of SENTINELS) {
      expect(
        await waitFor(`${s} CKQUORUM`, 60_000, async () => {
          const r = await stack.scli(s, ['SENTINEL', 'CKQUORUM', 'mymaster']);
          return /OK 3 usable/.test(r) ? r : undefined;
        }),
      ).toMatch(/OK 3 usable/);
    }
    await assertNoJobLost('kill sentinel');
    await reportTilts('kill sentinel');
  });

  it('kill one app task under load: the other keeps serving, Swarm replaces it', async () => {
    await allHealthy();
    const [victim, other] = await stack.running('app');
    const addresses = await stack.appAddresses();
    const otherIp = addresses.get(other!.id)!;
    const fault = Date.now();
    await withLoad('kill app task', async (load) => {
      await sleep(2000);
      await d.docker(['kill', victim!.id]);
      await sleep(8000);
      const servedByOther = load.attempts.filter(
        (a) => a.start > fault + 2000 && a.target === otherIp && a.status === 202,
      );
      figure(
        `kill app task: ${servedByOther.length} jobs accepted by the other task in the 8 s after the kill`,
      );
      expect(servedByOther.length).toBeGreaterThan(0);
      await waitFor(
        'two healthy app tasks again',
        120_000,
        async () => (await stack.unhealthy({ app: 2 })).length === 0,
        1000,
      );
      figure(
        `kill app task: 2 healthy app tasks again ${((Date.now() - fault) / 1000).toFixed(1)} s after the kill`,
      );
    });
    await assertNoJobLost('kill app task');
  });

  it('docker service update --force of the app under load (start-first) loses no accepted job', async () => {
    await allHealthy();
    const replaced: string[] = [];
    const fault = Date.now();
    await withLoad('service update --force', async (load) => {
      await sleep(2000);
      const before = new Set((await stack.running('app')).map((c) => c.id));
      replaced.push(...before);
      await d.cli(['service', 'update', '--force', '--detach', `${STACK}_app`]);
      // The roll is over once two new tasks are healthy and the old ones are gone (Swarm then
      // still monitors the last one for update_config.monitor before it says "completed").
      await waitFor(
        'two new healthy app tasks, the old ones gone',
        240_000,
        async () => {
          const state = (
            await d.docker(['service', 'inspect', '--format', '{{.UpdateStatus.State}}', `${STACK}_app`])
          ).stdout.trim();
          if (/rollback|paused/.test(state)) throw new Error(`update state ${state}`);
          const now = await stack.running('app');
          return now.length === 2 && now.every((c) => !before.has(c.id) && /\(healthy\)/.test(c.status));
        },
        1000,
      );
      figure(`service update --force: both tasks replaced in ${((Date.now() - fault) / 1000).toFixed(1)} s`);
      // start-first: some task accepts jobs at every moment; the longest gap between two accepted jobs:
      const ok = load.attempts
        .filter((a) => a.status === 202)
        .map((a) => a.end)
        .toSorted((a, b) => a - b);
      const gap = Math.max(0, ...ok.slice(1).map((t, i) => t - ok[i]!));
      figure(`service update --force: longest gap between two accepted jobs ${gap} ms`);
      // The load addresses each task directly (dnsrr, no VIP) with a 5 s deadline per request, so
      // requests caught on a task that is being stopped can take the whole deadline (5014 ms seen
      // in a CI run). Twice that still tells "a task kept accepting" from an outage of the app.
      expect(gap).toBeLessThan(10_000);
    });
    expect((await stack.unhealthy({ app: 2 })).length).toBe(0);
    // The replaced tasks stopped gracefully on SIGTERM (exit 0) within stop_grace_period.
    for (const id of replaced) {
      const state = (
        await d.docker([
          'inspect',
          '--format',
          '{{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}',
          id,
        ])
      ).stdout.trim();
      figure(`service update --force: replaced task ${id.slice(0, 12)} exit code ${state.split(' ')[0]}`);
      expect(state.split(' ')[0]).toBe('0');
    }
    await assertNoJobLost('service update --force');
  });

  it('rotates redis_password as docker/README.md says', async () => {
    await allHealthy();
    const oldPw = secrets.redis_password!;
    const newPw = randomBytes(24).toString('base64url');
    secretValues.push(newPw);
    const t = Date.now();
    await withLoad(
      'rotate redis_password',
      async () => {
        await d.docker(['secret', 'create', 'bastion_redis_password_v2', '-'], { input: newPw });
        // Step 1: every data node accepts both passwords and authenticates to its master with the new one.
        for (const n of DATA_NODES) {
          await stack.rcli(n, ['-x', 'ACL', 'SETUSER', 'default'], `>${newPw}`);
          await stack.rcli(n, ['-x', 'CONFIG', 'SET', 'masterauth'], newPw);
        }
        // Step 2: every Sentinel uses the new one.
        for (const s of SENTINELS)
          await stack.scli(s, ['-x', 'SENTINEL', 'SET', 'mymaster', 'auth-pass'], newPw);
        // Step 3: the deploy replaces every task that mounts the secret; each new Redis node starts
        // with the new password only (redis-start.sh), so there is no step 4 to run in Swarm.
        await runDeploy({ REDIS_PASSWORD_SECRET: 'bastion_redis_password_v2' });
        await sleep(3000);
        await waitFor(
          'every service updated and healthy',
          240_000,
          async () => {
            const states = await Promise.all(
              Object.keys(expected).map(async (s) =>
                (
                  await d.docker([
                    'service',
                    'inspect',
                    '--format',
                    '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}',
                    `${STACK}_${s}`,
                  ])
                ).stdout.trim(),
              ),
            );
            if (states.some((s) => /rollback|paused/.test(s)))
              throw new Error(`update states ${states.join(',')}`);
            return (
              states.every((s) => s === '' || s === 'completed') &&
              (await stack.unhealthy(expected)).length === 0
            );
          },
          2000,
        );
      },
      true,
    );
    figure(
      `rotate redis_password: every task replaced and healthy ${((Date.now() - t) / 1000).toFixed(1)} s after the start`,
    );
    // Every data node: new password yes, old no; every task mounts the new secret.
    for (const n of DATA_NODES) {
      const c = await stack.one(n);
      const withPw = (pw: string) =>
        d
          .docker(
            ['exec', '-i', c.id, 'sh', '-c', 'REDISCLI_AUTH="$(cat)" redis-cli --no-auth-warning PING 2>&1'],
            {
              input: pw,
              allowFail: true,
            },
          )
          .then((r) => (r.stdout + r.stderr).trim());
      expect(await withPw(newPw)).toBe('PONG');
      expect(await withPw(oldPw)).toMatch(/WRONGPASS|NOAUTH|invalid/i);
    }
    for (const s of SENTINELS) {
      expect(await stack.scli(s, ['SENTINEL', 'CKQUORUM', 'mymaster'])).toMatch(/OK 3 usable/);
    }
    for (const ip of appTargets) {
      const res = await fetch(`http://${ip}:3000/health/ready`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
    }
    await assertNoJobLost('rotate redis_password');
    await reportTilts('rotate redis_password');
    // "docker secret rm bastion_redis_password_v1 # once no service uses it"
    await d.docker(['secret', 'rm', 'bastion_redis_password_v1']);
  });
});
