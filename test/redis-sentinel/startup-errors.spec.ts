import {
  RedisSentinelStartupError,
  type RedisSentinelModuleExtras,
  type RedisSentinelModuleOptions,
} from '@bastion/redis-sentinel';
import { freePort } from '@bastion/redis-topology';
import { useTopology } from '../support/use-topology.js';
import {
  openHandles,
  waitForHandlesBack,
  PASSWORD,
  PROTECTED_TOPOLOGY,
  SENTINEL_PASSWORD,
  sentinelOptions,
  startModule,
} from './support.js';

const STARTUP_TIMEOUT_MS = 10_000;
const WRONG_PASSWORD = 'not-the-password-42';

/** Boots the module and returns its startup error and how long the boot took. */
async function failedBoot(
  options: RedisSentinelModuleOptions,
  // A replica and a subscriber client too: each must word the same problem the same way.
  extras: RedisSentinelModuleExtras = {
    clients: { default: 'master', reads: 'replica', events: 'subscriber' },
  },
): Promise<{ error: RedisSentinelStartupError; ms: number }> {
  const started = Date.now();
  const outcome = await startModule(options, extras).then(
    async (app) => {
      await app.moduleRef.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  const ms = Date.now() - started;
  expect(outcome).toBeInstanceOf(RedisSentinelStartupError);
  const error = outcome as RedisSentinelStartupError;
  // Flat: one line per problem, no "last error: ...; last error: ..." nesting, no secret.
  expect(error.message).not.toMatch(/last error/);
  for (const secret of [PASSWORD, SENTINEL_PASSWORD, WRONG_PASSWORD]) {
    expect(error.message).not.toContain(secret);
  }
  return { error, ms };
}

describe('startup: permanent answers fail at once, transient ones keep the wait', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);
  const sentinelNames = () => topo.sentinels.map((s) => `127.0.0.1:${s.port}`).join(', ');

  it('an unknown masterName fails at once and lists the masters the Sentinels monitor', async () => {
    const before = openHandles();
    const { error, ms } = await failedBoot(
      sentinelOptions(topo, { masterName: 'mymastr', startupTimeoutMs: STARTUP_TIMEOUT_MS }),
    );
    expect(ms).toBeLessThan(3000);
    expect(error.permanent).toBe(true);
    expect(error.problems).toEqual([
      `masterName "mymastr" is unknown to Sentinels ${sentinelNames()}; they monitor "mymaster": set masterName to one of them`,
    ]);
    // Failing early leaves nothing behind (no socket, no startup timer) that would keep the process up.
    await waitForHandlesBack(before);
  });

  it('a wrong sentinelPassword fails at once and names sentinelPassword, never a value', async () => {
    const { error, ms } = await failedBoot(
      sentinelOptions(topo, { sentinelPassword: WRONG_PASSWORD, startupTimeoutMs: STARTUP_TIMEOUT_MS }),
    );
    expect(ms).toBeLessThan(3000);
    expect(error.permanent).toBe(true);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(
      new RegExp(
        `^Sentinels ${sentinelNames()} refused sentinelPassword \\(WRONGPASS .*\\): check sentinelPassword$`,
      ),
    );
  });

  it('a missing sentinelPassword fails at once and says it is not set', async () => {
    const { error, ms } = await failedBoot(
      sentinelOptions(topo, { sentinelPassword: undefined, startupTimeoutMs: STARTUP_TIMEOUT_MS }),
    );
    expect(ms).toBeLessThan(3000);
    expect(error.problems).toEqual([
      expect.stringMatching(/require a password \(NOAUTH .*\) and sentinelPassword is not set$/),
    ]);
  });

  it('a data password the master refuses fails at once and names password', async () => {
    const { error, ms } = await failedBoot(
      sentinelOptions(topo, { password: WRONG_PASSWORD, startupTimeoutMs: STARTUP_TIMEOUT_MS }),
    );
    expect(ms).toBeLessThan(3000);
    expect(error.permanent).toBe(true);
    expect(error.problems.length).toBeGreaterThanOrEqual(1);
    for (const line of error.problems) {
      expect(line).toMatch(
        /^Redis 127\.0\.0\.1:\d+ \(named by the Sentinels\) refused password \(WRONGPASS .*\): check password$/,
      );
    }
    // Each line names the data node that refused: the master, or a replica when the replica client
    // is refused first (the first permanent refusal ends the boot). Never a Sentinel.
    const dataPorts = topo.dataNodes.map((n) => n.port);
    for (const line of error.problems) {
      const port = Number(/^Redis 127\.0\.0\.1:(\d+) /.exec(line)?.[1]);
      expect(dataPorts, `${line} names a data node of the topology`).toContain(port);
    }
    expect(error.message).not.toContain('sentinelPassword');
  });

  it('standalone: a password the server refuses fails at once and names password (or the url)', async () => {
    const { error, ms } = await failedBoot(
      {
        url: `redis://:${WRONG_PASSWORD}@127.0.0.1:${topo.master.port}`,
        startupTimeoutMs: STARTUP_TIMEOUT_MS,
      },
      {},
    );
    expect(ms).toBeLessThan(3000);
    expect(error.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Redis 127\\.0\\.0\\.1:${topo.master.port} refused password \\(WRONGPASS .*\\): check password \\(or the credentials in url\\)$`,
        ),
      ),
    ]);
  });

  it('a data node listed as a Sentinel fails at once and says so', async () => {
    const { error, ms } = await failedBoot({
      sentinels: `127.0.0.1:${topo.master.port}`,
      masterName: topo.masterName,
      sentinelPassword: PASSWORD,
      password: PASSWORD,
      startupTimeoutMs: STARTUP_TIMEOUT_MS,
    });
    expect(ms).toBeLessThan(3000);
    expect(error.problems).toEqual([
      expect.stringMatching(
        new RegExp(`^127\\.0\\.0\\.1:${topo.master.port} answered like a Redis data node, not a Sentinel`),
      ),
    ]);
  });

  it('keeps the whole wait while one configured Sentinel does not answer, then reports every answer', async () => {
    const deadPort = await freePort();
    const timeoutMs = 1500;
    const { error, ms } = await failedBoot(
      sentinelOptions(topo, {
        sentinels: `${topo.sentinelList},127.0.0.1:${deadPort}`,
        masterName: 'mymastr',
        startupTimeoutMs: timeoutMs,
      }),
    );
    expect(ms).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(error.permanent).toBe(false);
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^Redis client "default" not ready within ${timeoutMs} ms \\(status \\w+\\): no Sentinel named the master "mymastr"$`,
          ),
        ),
        `masterName "mymastr" is unknown to Sentinels ${sentinelNames()}; they monitor "mymaster": set masterName to one of them`,
        `Sentinel 127.0.0.1:${deadPort}: connect ECONNREFUSED 127.0.0.1:${deadPort}`,
      ]),
    );
  });
});
