/**
 * The partition scenarios, shared by the suite (test/partitions/*.spec.ts) and the benchmark
 * (test/bench/partitions.bench.ts) so both run exactly the same faults on the same harness.
 *
 * A scenario: write load on every client under test (plain SETs and durable writes, each with a
 * unique key, recorded when acknowledged) → fault → hold → heal → wait for the topology to settle
 * (after a failover: the old master demoted to a replica of the new one) → more load → stop →
 * every acknowledged key looked up on the final master.
 */
import type { Redis } from 'ioredis';
import { CLIENT } from '../harness/partition-net.js';
import type { NetnsTopology } from '../harness/netns-topology.js';
import { sleep } from '../support/sleep.js';

export type ScenarioName =
  'master-isolated' | 'split-brain' | 'client-sentinels' | 'client-master' | 'flapping' | 'one-way';

export interface ScenarioPlan {
  name: ScenarioName;
  title: string;
  /** Whether Sentinel must fail over (true), must not (false), or may ('maybe'). */
  failover: boolean | 'maybe';
  /**
   * Applies the fault and calls `applied` once the first rules are in place; for flapping, runs
   * the whole down/up cycle.
   */
  fault(topo: NetnsTopology, applied: () => void): Promise<void>;
  /** How long the fault stays before the heal (after `fault` resolved). */
  holdMs: number;
}

const SENTINELS = ['sentinel-1', 'sentinel-2', 'sentinel-3'];
const REPLICAS = ['replica-1', 'replica-2'];
const ALL_BUT_MASTER = [CLIENT, ...REPLICAS, ...SENTINELS];
/** Flapping: the master's link goes down and up every this many ms, for FLAP_FOR_MS. */
export const FLAP_PERIOD_MS = 500;
export const FLAP_FOR_MS = 20_000;

export const SCENARIOS: Record<ScenarioName, ScenarioPlan> = {
  'master-isolated': {
    name: 'master-isolated',
    title: '1. master isolated from everyone',
    failover: true,
    fault: (t, applied) => t.net.cut(['master'], ALL_BUT_MASTER).then(applied),
    holdMs: 7000,
  },
  'split-brain': {
    name: 'split-brain',
    title: '2. split brain: client + old master vs Sentinels + replicas',
    failover: true,
    fault: (t, applied) => t.net.cut([CLIENT, 'master'], [...REPLICAS, ...SENTINELS]).then(applied),
    holdMs: 8000,
  },
  'client-sentinels': {
    name: 'client-sentinels',
    title: '3. client cut off from the Sentinels only',
    failover: false,
    fault: (t, applied) => t.net.cut([CLIENT], SENTINELS).then(applied),
    holdMs: 7000,
  },
  'client-master': {
    name: 'client-master',
    title: '4. client cut off from the master only',
    failover: false,
    fault: (t, applied) => t.net.cut([CLIENT], ['master']).then(applied),
    holdMs: 8000,
  },
  flapping: {
    name: 'flapping',
    title: `5. master's link flapping (${FLAP_PERIOD_MS} ms down/up for ${FLAP_FOR_MS / 1000} s)`,
    // 500 ms down is shorter than down-after-milliseconds, but lost pings can add up to 1 s.
    failover: 'maybe',
    fault: async (t, applied) => {
      const end = Date.now() + FLAP_FOR_MS;
      while (Date.now() < end) {
        await t.net.cut(['master'], ALL_BUT_MASTER);
        applied();
        await sleep(FLAP_PERIOD_MS);
        await t.net.heal();
        await sleep(FLAP_PERIOD_MS);
      }
    },
    holdMs: 0,
  },
  'one-way': {
    name: 'one-way',
    title: '6. one-way loss: client → master dropped',
    failover: false,
    fault: (t, applied) => t.net.drop([CLIENT], ['master']).then(applied),
    holdMs: 8000,
  },
};

interface Ack {
  key: string;
  startedAt: number;
  ackAt: number;
}

/** One client under test and how it makes a durable write (resolves only when acknowledged). */
export interface ClientUnderTest {
  label: string;
  redis: Redis;
  durableWrite(key: string): Promise<void>;
}

/** A plain SET loop and a durable write loop on one client; every call timed. */
export class WriteLoad {
  readonly plain: Ack[] = [];
  readonly durable: Ack[] = [];
  readonly errors = new Map<string, number>();
  longestMs = 0;
  longestAt = 0;
  /** A call was still pending when the load stopped (its age is counted in `longestMs`). */
  stillPending = false;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly inflight = new Set<number>();
  private seq = 0;

  constructor(readonly client: ClientUnderTest) {}

  start(): void {
    this.running = true;
    this.loops = [
      this.loop('p', this.plain, (k) => this.client.redis.set(k, '1')),
      this.loop('d', this.durable, (k) => this.client.durableWrite(k)),
    ];
  }

  /** Stops both loops; a call that still hangs after `capMs` is counted with its age and left. */
  async stop(capMs: number): Promise<void> {
    this.running = false;
    await Promise.race([Promise.all(this.loops), sleep(capMs)]);
    for (const since of this.inflight) {
      this.stillPending = true;
      this.note(Date.now() - since, since);
    }
  }

  private note(ms: number, at: number): void {
    if (ms > this.longestMs) {
      this.longestMs = ms;
      this.longestAt = at;
    }
  }

  private async loop(kind: string, acks: Ack[], write: (key: string) => Promise<unknown>): Promise<void> {
    while (this.running) {
      const key = `${this.client.label}:${kind}:${++this.seq}`;
      const startedAt = Date.now();
      this.inflight.add(startedAt);
      try {
        await write(key);
        acks.push({ key, startedAt, ackAt: Date.now() });
      } catch (err) {
        const e = err as Error;
        const label = `${e.name}: ${e.message.replace(/\d+/g, 'N').slice(0, 60)}`;
        this.errors.set(label, (this.errors.get(label) ?? 0) + 1);
      } finally {
        this.inflight.delete(startedAt);
        this.note(Date.now() - startedAt, startedAt);
      }
      await sleep(20);
    }
  }
}

export interface ClientResult {
  label: string;
  plainAcked: number;
  plainLost: number;
  /** Acknowledged plain writes that were lost, by ack time relative to the fault (ms). */
  plainLostAckedAfterFaultMs: number[];
  /** Acknowledged plain writes started after the heal that were lost (written to a demoted node). */
  plainLostAfterHeal: number;
  durableAcked: number;
  durableLost: number;
  /** First acknowledged write that survived, started after the fault / after the heal (ms). */
  firstAckAfterFaultMs: number | undefined;
  firstAckAfterHealMs: number | undefined;
  longestMs: number;
  /** The longest call had not returned when the scenario ended. */
  stillPending: boolean;
  errors: Record<string, number>;
}

export interface ScenarioResult {
  plan: ScenarioPlan;
  faultAt: number;
  healAt: number;
  oldMaster: string;
  finalMaster: string;
  /** `ROLE` of the old master at the end. */
  oldMasterRole: string;
  switches: number;
  clients: ClientResult[];
}

export interface RunHooks {
  /** Runs while the fault holds (started right after the fault is applied). */
  duringFault?: (faultAt: number) => Promise<void>;
  /** Runs after the heal, once the topology settled. */
  afterHeal?: (healAt: number) => Promise<void>;
}

/** Counts `+switch-master` on every Sentinel, from the control address (never cut). */
async function watchSwitches(topo: NetnsTopology): Promise<{ count: () => number; close: () => void }> {
  const seen = new Set<string>();
  const subs = topo.sentinels.map((s) => {
    const c = topo.connect(s);
    c.on('message', (_ch: string, msg: string) => seen.add(msg));
    return c;
  });
  await Promise.all(subs.map(async (c) => (await c.connect(), await c.subscribe('+switch-master'))));
  return { count: () => seen.size, close: () => subs.forEach((c) => c.disconnect()) };
}

/**
 * Waits until the Sentinels agree on a master that has both replicas attached (after a
 * failover, the old master is one of them). A failover still running may change the answer.
 */
async function settle(topo: NetnsTopology, expected: string): Promise<string> {
  const deadline = Date.now() + 45_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const named = (await topo.sentinelMajorityMaster().catch(() => undefined)) ?? expected;
    try {
      await topo.waitSettled(named, Math.min(5000, deadline - Date.now()));
      if ((await topo.sentinelMajorityMaster()) === named) return named;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error('the topology did not settle within 45 s after the heal', { cause: lastError });
}

export async function runScenario(
  topo: NetnsTopology,
  clients: ClientUnderTest[],
  plan: ScenarioPlan,
  hooks: RunHooks = {},
): Promise<ScenarioResult> {
  const oldMaster = topo.master.ip;
  const switches = await watchSwitches(topo);
  const loads = clients.map((c) => new WriteLoad(c));
  let faultAt = 0;
  let healAt = 0;
  let finalMaster = oldMaster;
  try {
    loads.forEach((l) => l.start());
    await sleep(1000);
    // Times are taken once the rules are in place (or gone): applying them takes a moment.
    let hook: Promise<void> | undefined;
    await plan.fault(topo, () => {
      if (faultAt > 0) return;
      faultAt = Date.now();
      hook = hooks.duringFault?.(faultAt);
      // Awaited below; until then a rejection must not count as unhandled.
      hook?.catch(() => undefined);
    });
    await sleep(plan.holdMs);
    await hook;
    await topo.net.heal();
    healAt = Date.now();
    // Settled: a majority names the final master, which has both replicas, and (after a
    // failover) the old master is one of them.
    if (plan.failover === true) finalMaster = await topo.waitForNewMaster(oldMaster, 30_000);
    finalMaster = await settle(topo, finalMaster);
    await hooks.afterHeal?.(healAt);
    await sleep(1500);
  } finally {
    await Promise.all(loads.map((l) => l.stop(3000)));
    switches.close();
  }
  finalMaster = (await topo.sentinelMajorityMaster()) ?? finalMaster;
  const final = topo.nodeByIp(finalMaster);
  const oldMasterRole = await topo.role(topo.nodeByIp(oldMaster));
  const results: ClientResult[] = [];
  const probe = topo.connect(final, 10_000);
  await probe.connect();
  try {
    for (const load of loads) {
      const present = async (acks: Ack[]): Promise<Set<string>> => {
        const found = new Set<string>();
        for (let i = 0; i < acks.length; i += 500) {
          const batch = acks.slice(i, i + 500);
          const values = await probe.mget(...batch.map((a) => a.key));
          batch.forEach((a, j) => values[j] !== null && found.add(a.key));
        }
        return found;
      };
      const plainHere = await present(load.plain);
      const durableHere = await present(load.durable);
      const survived = [
        ...load.plain.filter((a) => plainHere.has(a.key)),
        ...load.durable.filter((a) => durableHere.has(a.key)),
      ];
      const firstAfter = (t: number): number | undefined => {
        const after = survived.filter((a) => a.startedAt >= t).map((a) => a.ackAt - t);
        return after.length > 0 ? Math.min(...after) : undefined;
      };
      const lostPlain = load.plain.filter((a) => !plainHere.has(a.key));
      results.push({
        label: load.client.label,
        plainAcked: load.plain.length,
        plainLost: lostPlain.length,
        plainLostAckedAfterFaultMs: lostPlain.map((a) => a.ackAt - faultAt),
        plainLostAfterHeal: lostPlain.filter((a) => a.startedAt >= healAt).length,
        durableAcked: load.durable.length,
        durableLost: load.durable.filter((a) => !durableHere.has(a.key)).length,
        firstAckAfterFaultMs: firstAfter(faultAt),
        firstAckAfterHealMs: firstAfter(healAt),
        longestMs: load.longestMs,
        stillPending: load.stillPending,
        errors: Object.fromEntries(load.errors),
      });
    }
  } finally {
    probe.disconnect();
  }
  return {
    plan,
    faultAt,
    healAt,
    oldMaster,
    finalMaster,
    oldMasterRole,
    switches: switches.count(),
    clients: results,
  };
}
