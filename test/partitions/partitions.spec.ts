/**
 * Network partitions (issue 12): every node in its own network namespace, faults made with
 * iptables (see test/harness/partition-net.ts), the module under a steady write load. Needs root;
 * elsewhere the suite is skipped with the reason, except under CI=true where it fails.
 *
 * Bounds here are loose sanity bounds; the figures are in `npm run bench:partitions`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { durableWrite, RedisSentinelHealthIndicator } from '@bastion/redis-sentinel';
import { NetnsTopology } from '../harness/netns-topology.js';
import { partitionUnsupportedReason } from '../harness/partition-net.js';
import { startModule } from '../redis-sentinel/support.js';
import { sleep } from '../support/sleep.js';
import { FLAP_FOR_MS, runScenario, SCENARIOS, type ScenarioName, type ScenarioResult } from './scenarios.js';

const unsupported = partitionUnsupportedReason();
const inCi = process.env.CI === 'true';
// The default reporter does not show a skipped suite's name: say why once.
if (unsupported && !inCi) console.warn(`network partition tests skipped: ${unsupported}`);

/** The module's defaults: what the README promises. */
const COMMAND_TIMEOUT_MS = 2000;
const HEALTH_TIMEOUT_MS = 500;
/** Scheduling noise on a busy 2-core machine. */
const MARGIN_MS = 1000;
/** `min-replicas-max-lag` of the harness (seconds). */
const MAX_LAG_S = 2;

type HealthStatus = 'up' | 'degraded' | 'down';
interface HealthSample {
  at: number;
  tookMs: number;
  status: HealthStatus;
}

interface Run {
  result: ScenarioResult;
  health: HealthSample[];
  /** Reconnects of the data client while the fault held. */
  reconnectsDuringFault: number;
  /** `CLIENT LIST` of the old master at the end includes the module's connection. */
  clientOnOldMaster: boolean;
  healthAfterHeal: HealthStatus;
  /**
   * Longest event-loop stall of this process during the run (ms). On a loaded machine timers fire
   * late by this much; a deadline the code ignores would not show up here, so the time bounds
   * below add it without excusing a real hang.
   */
  loopStallMs: number;
}

const runs = new Map<ScenarioName, Run>();

async function run(name: ScenarioName): Promise<Run> {
  const plan = SCENARIOS[name];
  const topo = await NetnsTopology.start({ minReplicasMaxLag: MAX_LAG_S });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    const app = await startModule({ sentinels: topo.sentinelList, masterName: topo.masterName });
    try {
      const redis: Redis = app.clients.get();
      const health = app.moduleRef.get(RedisSentinelHealthIndicator);
      const sampleHealth = async (): Promise<HealthSample> => {
        const at = Date.now();
        const r = await health.isHealthy('redis', { timeoutMs: HEALTH_TIMEOUT_MS });
        return { at, tookMs: Date.now() - at, status: r.redis.status as HealthStatus };
      };
      const samples: HealthSample[] = [];
      let faultAt = 0;
      let healAt = 0;
      let reconnects = 0;
      redis.on('reconnecting', () => {
        if (faultAt > 0 && healAt === 0) reconnects++;
      });
      const faultFor = plan.name === 'flapping' ? FLAP_FOR_MS : plan.holdMs;
      let healthAfterHeal: HealthStatus = 'down';
      const result = await runScenario(
        topo,
        [
          {
            label: 'module',
            redis,
            durableWrite: async (key) => {
              await durableWrite(redis, (p) => p.set(key, '1'), { replicas: 1, timeoutMs: 500 });
            },
          },
        ],
        plan,
        {
          duringFault: async (at) => {
            faultAt = at;
            while (Date.now() < at + faultFor - 300) {
              samples.push(await sampleHealth());
              await sleep(250);
            }
          },
          afterHeal: async (at) => {
            healAt = at;
            // Truthful again once the client is back: up within a few seconds of the settle.
            await vi
              .waitFor(
                async () =>
                  expect((healthAfterHeal = (await sampleHealth()).status) === 'up', 'health up').toBe(true),
                { timeout: 10_000, interval: 20 },
              )
              .catch(() => undefined);
          },
        },
      );
      const clientList = await topo.command(topo.nodeByIp(result.oldMaster), 'CLIENT', 'LIST');
      return {
        result,
        health: samples,
        reconnectsDuringFault: reconnects,
        clientOnOldMaster: clientList.includes('name=bastion:default'),
        healthAfterHeal,
        loopStallMs: loop.max / 1e6,
      };
    } finally {
      await app.moduleRef.close();
    }
  } finally {
    loop.disable();
    await topo.teardown();
  }
}

/** Samples taken at least `fromMs` after the fault. */
const samplesFrom = (r: Run, fromMs: number): HealthSample[] =>
  r.health.filter((s) => s.at >= r.result.faultAt + fromMs);

/** What every scenario asserts. */
function expectCommonInvariants(r: Run): void {
  const [c] = r.result.clients;
  // One line per scenario for the log: what the loose bounds below were checked against.
  console.log(
    `${r.result.plan.name}: longest command ${c!.longestMs} ms, slowest health check ${Math.max(0, ...r.health.map((s) => s.tookMs))} ms, event-loop stall ${Math.round(r.loopStallMs)} ms, first write after heal ${c!.firstAckAfterHealMs} ms, plain lost ${c!.plainLost}/${c!.plainAcked}, durable lost ${c!.durableLost}/${c!.durableAcked}`,
  );
  expect(c!.durableAcked).toBeGreaterThan(0);
  expect(c!.durableLost).toBe(0);
  expect(c!.stillPending).toBe(false);
  expect(c!.longestMs).toBeLessThanOrEqual(COMMAND_TIMEOUT_MS + MARGIN_MS + r.loopStallMs);
  for (const s of r.health) {
    expect(s.tookMs).toBeLessThanOrEqual(HEALTH_TIMEOUT_MS + MARGIN_MS / 2 + r.loopStallMs);
  }
  expect(c!.firstAckAfterHealMs).toBeDefined();
  expect(c!.firstAckAfterHealMs!).toBeLessThan(10_000);
  expect(r.healthAfterHeal).toBe('up');
}

describe.skipIf(!!unsupported)(`network partitions${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  it('1. master isolated from everyone: fails over, no durable write lost, commands bounded, health down then up', async () => {
    const r = await run('master-isolated');
    runs.set('master-isolated', r);
    expectCommonInvariants(r);
    expect(r.result.finalMaster).not.toBe(r.result.oldMaster);
    // Before Sentinel can act (down-after 1000 ms) the client's master is unreachable: down.
    const early = samplesFrom(r, 600).filter((s) => s.at < r.result.faultAt + 1600);
    expect(early.length).toBeGreaterThan(0);
    expect(early.every((s) => s.status === 'down')).toBe(true);
    // The client follows the failover while the old master is still cut off.
    expect(r.health.some((s) => s.status === 'up')).toBe(true);
    expect(r.result.clients[0]!.firstAckAfterFaultMs!).toBeLessThan(SCENARIOS['master-isolated'].holdMs);
  });

  it(`2. split brain: no durable write lost; plain writes lost only within min-replicas-max-lag (${MAX_LAG_S} s) of the cut; health never up while cut off`, async () => {
    const r = await run('split-brain');
    runs.set('split-brain', r);
    expectCommonInvariants(r);
    expect(r.result.finalMaster).not.toBe(r.result.oldMaster);
    const [c] = r.result.clients;
    // What Redis can bound: the isolated master stops acknowledging once its replicas lag
    // more than min-replicas-max-lag (plus the 1 s between replica ACKs).
    for (const ms of c!.plainLostAckedAfterFaultMs) expect(ms).toBeLessThanOrEqual((MAX_LAG_S + 2) * 1000);
    // With no Sentinel reachable the master cannot be verified: never "up".
    const late = samplesFrom(r, 1500);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((s) => s.status !== 'up')).toBe(true);
  });

  it('3. client cut off from the Sentinels only: no failover, no reconnect, no failed plain write, durable writes refused (a failover could run unseen), health degraded (not down)', async () => {
    const r = await run('client-sentinels');
    runs.set('client-sentinels', r);
    expectCommonInvariants(r);
    expect(r.result.switches).toBe(0);
    expect(r.result.finalMaster).toBe(r.result.oldMaster);
    expect(r.reconnectsDuringFault).toBe(0);
    // Only durable writes fail, refused before they are sent: without a Sentinel connection the
    // module could not see a failover, so it cannot vouch for a replica's acknowledgement.
    const counts = r.result.clients[0]!.errors;
    const errors = Object.keys(counts);
    expect(errors.length).toBeGreaterThan(0);
    // The one durable write in flight when the watcher lost the Sentinels (the load writes them
    // one at a time) is reported unconfirmed rather than refused: it was sent while they were heard.
    const inFlightAtCut = errors.filter((e) =>
      e.startsWith('DurableWriteError: Durable write: the connection changed or a failover started'),
    );
    for (const e of inFlightAtCut) expect(counts[e]).toBe(1);
    expect(
      errors.filter(
        (e) =>
          !e.startsWith('DurableWriteError: Durable write refused: not every Sentinel') &&
          !inFlightAtCut.includes(e),
      ),
    ).toEqual([]);
    const late = samplesFrom(r, 1500);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((s) => s.status === 'degraded')).toBe(true);
  });

  it('4. client cut off from the master only: commands fail within commandTimeoutMs, health down, no failover', async () => {
    const r = await run('client-master');
    runs.set('client-master', r);
    expectCommonInvariants(r);
    expect(r.result.switches).toBe(0);
    expect(Object.values(r.result.clients[0]!.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const late = samplesFrom(r, 1000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((s) => s.status === 'down')).toBe(true);
  });

  it('5. flapping master link: no durable write lost, commands bounded, back after the heal', async () => {
    const r = await run('flapping');
    runs.set('flapping', r);
    expectCommonInvariants(r);
  });

  it('6. one-way loss (client → master dropped): commands bounded, health down, no failover', async () => {
    const r = await run('one-way');
    runs.set('one-way', r);
    expectCommonInvariants(r);
    expect(r.result.switches).toBe(0);
    const late = samplesFrom(r, 1000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((s) => s.status === 'down')).toBe(true);
  });

  it('7. after each heal: an old master rejoined as a replica, and the client never wrote to a demoted node again', () => {
    expect(runs.size).toBe(6);
    for (const [name, r] of runs) {
      if (r.result.finalMaster !== r.result.oldMaster) {
        expect(r.result.oldMasterRole, name).toBe('slave');
        expect(r.clientOnOldMaster, name).toBe(false);
      }
      expect(r.result.clients[0]!.plainLostAfterHeal, name).toBe(0);
    }
    // Both failover scenarios did fail over, so the check above ran.
    expect(
      [...runs.values()].filter((r) => r.result.finalMaster !== r.result.oldMaster).length,
    ).toBeGreaterThanOrEqual(2);
  });
});

// Under CI the partition tests must run: a machine without root or iptables is a broken CI.
describe.runIf(!!unsupported && inCi)('network partitions under CI', () => {
  it('can run', () => {
    throw new Error(`partition tests cannot run under CI=true: ${unsupported}`);
  });
});
