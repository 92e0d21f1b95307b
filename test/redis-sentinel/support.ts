/** Helpers shared by the redis-sentinel specs (not a spec file itself). */
import { Test, type TestingModule } from '@nestjs/testing';
import {
  RedisClientsService,
  RedisSentinelModule,
  type RedisSentinelModuleExtras,
  type RedisSentinelModuleOptions,
} from '@bastion/redis-sentinel';
import type { RedisTopology, TopologyOptions } from '@bastion/redis-topology';
import { watchSwitches } from '../support/sentinel-clock.js';

export const PASSWORD = 'data-secret-pw';
export const SENTINEL_PASSWORD = 'sentinel-secret-pw';

/** The topology most suites use: Redis and Sentinel passwords on, harness defaults otherwise. */
export const PROTECTED_TOPOLOGY: TopologyOptions = {
  password: PASSWORD,
  sentinelPassword: SENTINEL_PASSWORD,
};

export function sentinelOptions(
  topo: RedisTopology,
  extra: RedisSentinelModuleOptions = {},
): RedisSentinelModuleOptions {
  return {
    sentinels: topo.sentinelList,
    masterName: topo.masterName,
    password: PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
    ...extra,
  };
}

/** Compiles and initialises a module with the Redis module; `close()` runs the shutdown hooks. */
export async function startModule(
  options: RedisSentinelModuleOptions,
  extras: RedisSentinelModuleExtras = {},
): Promise<{ moduleRef: TestingModule; clients: RedisClientsService }> {
  const moduleRef = await Test.createTestingModule({
    imports: [RedisSentinelModule.forRoot({ ...options, ...extras })],
  }).compile();
  await moduleRef.init();
  return { moduleRef, clients: moduleRef.get(RedisClientsService) };
}

export { sleep } from '../support/sleep.js';

/**
 * Waits until the Sentinel-named master has the expected number of replicas with their link up.
 * 40 s by default: a restarted old master is converted only after Sentinel has seen it up for 8 s
 * (four publish periods), then it syncs; on a loaded CI machine that took more than 20 s.
 */
export async function waitReplicasAttached(
  topo: RedisTopology,
  port: number,
  count: number,
  timeoutMs = 40_000,
): Promise<void> {
  const node = topo.nodeByPort(port);
  await topo.waitUntil(
    async () => {
      const info = await topo.command(node, 'INFO', 'replication');
      const m = /connected_slaves:(\d+)/.exec(info);
      return !!m && Number(m[1]) >= count && !/state=(wait_bgsave|send_bulk)/.test(info);
    },
    `master ${port} has ${count} replica(s) online`,
    timeoutMs,
  );
}

/**
 * Waits until whichever node the Sentinels name as master has `count` replicas online, and
 * returns its port. Unlike `waitReplicasAttached` it re-asks the Sentinels on every poll: on a
 * loaded machine (down-after 1 s) they may fail over on their own between a test's restart of
 * an old master and the next test, and a wait pinned to the old port would never end.
 */
export async function waitForSyncedMaster(
  topo: RedisTopology,
  count: number,
  timeoutMs = 40_000,
): Promise<number> {
  let port: number | undefined;
  await topo.waitUntil(
    async () => {
      port = await topo.currentMasterPort();
      if (port === undefined) return false;
      const info = await topo.command(topo.nodeByPort(port), 'INFO', 'replication');
      const m = /connected_slaves:(\d+)/.exec(info);
      return (
        /role:master/.test(info) &&
        !!m &&
        Number(m[1]) >= count &&
        !/state=(wait_bgsave|send_bulk)/.test(info)
      );
    },
    `the Sentinels' master has ${count} replica(s) online`,
    timeoutMs,
  );
  return port!;
}

/**
 * Independent observer of `+switch-master` (plain ioredis, one connection per Sentinel): the
 * reference clock for "time after the switch".
 */
export async function watchSwitchMaster(topo: RedisTopology): Promise<{
  switches: Array<{ at: number; to: number }>;
  /** The first `+switch-master` seen, waiting for it (20 s at most). */
  firstSwitch: () => Promise<{ at: number; to: number }>;
  close: () => void;
}> {
  const { switches, close } = await watchSwitches(topo, SENTINEL_PASSWORD);
  const firstSwitch = async (): Promise<{ at: number; to: number }> => {
    await vi.waitFor(() => expect(switches.length > 0, 'Sentinels announce +switch-master').toBe(true), {
      timeout: 20_000,
      interval: 20,
    });
    return switches[0]!;
  };
  return { switches, firstSwitch, close };
}

/** Open TCP sockets and timers of this process (for leak checks). */
export function openHandles(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return {
    sockets: info.filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length,
    timers: info.filter((r) => r === 'Timeout').length,
  };
}

/** Waits (3 s at most) until no more sockets and timers are open than in `before`. */
export async function waitForHandlesBack(before: { sockets: number; timers: number }): Promise<void> {
  await vi.waitFor(() => expect(openHandles().sockets <= before.sockets, 'sockets closed').toBe(true), {
    timeout: 3000,
    interval: 20,
  });
  await vi.waitFor(() => expect(openHandles().timers <= before.timers, 'timers cleared').toBe(true), {
    timeout: 3000,
    interval: 20,
  });
}
