/**
 * Partition benchmark: plain ioredis (default options) vs @bastion/redis-sentinel (default
 * options), side by side in one run, on the partition harness (every node in its own network
 * namespace, faults made with iptables; needs root). Both clients run at the same time in this
 * process and are cut together.
 *
 *   npm run bench:partitions -- [--only split-brain,one-way]
 *
 * Per scenario and client: time to the first acknowledged write that survived, after the fault
 * and after the heal; the longest command; acknowledged writes lost (plain SET, and durable
 * SET + WAIT 1 500) on the final master.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { RedisClientsService, RedisSentinelModule, durableWrite } from '@bastion/redis-sentinel';
import { NetnsTopology } from '../harness/netns-topology.js';
import { partitionUnsupportedReason } from '../harness/partition-net.js';
import { runScenario, SCENARIOS, type ClientUnderTest, type ScenarioName } from '../partitions/scenarios.js';

const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const names = (args.only ? args.only.split(',') : Object.keys(SCENARIOS)) as ScenarioName[];

const reason = partitionUnsupportedReason();
if (reason) {
  console.error(`bench:partitions needs root, ip and iptables: ${reason}`);
  process.exit(1);
}

const fmt = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
const rows: string[][] = [];

for (const name of names) {
  const plan = SCENARIOS[name];
  const topo = await NetnsTopology.start();
  const plain = new Redis({
    sentinels: topo.sentinels.map((s) => ({ host: s.ip, port: s.port })),
    name: topo.masterName,
  });
  plain.on('error', () => undefined);
  const app = await NestFactory.createApplicationContext(
    RedisSentinelModule.forRoot({ sentinels: topo.sentinelList, masterName: topo.masterName }),
    { logger: false },
  );
  const ours = app.get(RedisClientsService).get();
  const clients: ClientUnderTest[] = [
    {
      label: 'plain ioredis',
      redis: plain,
      durableWrite: async (key) => {
        const replies = await plain.pipeline().set(key, '1').call('WAIT', 1, 500).exec();
        const [setErr] = replies![0]!;
        const [waitErr, acked] = replies![1]!;
        if (setErr) throw setErr;
        if (waitErr) throw waitErr;
        if (Number(acked) < 1) throw new Error('WAIT: no replica acknowledged');
      },
    },
    {
      label: '@bastion/redis-sentinel',
      redis: ours,
      durableWrite: async (key) => {
        await durableWrite(ours, (p) => p.set(key, '1'), { replicas: 1, timeoutMs: 500 });
      },
    },
  ];
  try {
    await plain.ping();
    const result = await runScenario(topo, clients, plan);
    console.error(
      `${plan.title}: final master ${result.finalMaster === result.oldMaster ? 'unchanged' : 'switched'}, old master ${result.oldMasterRole}, ${result.switches} switch(es)`,
    );
    for (const c of result.clients) {
      console.error(`  ${c.label}: errors ${JSON.stringify(c.errors)}`);
      rows.push([
        plan.title,
        c.label,
        fmt(c.firstAckAfterFaultMs),
        fmt(c.firstAckAfterHealMs),
        c.stillPending ? `≥ ${fmt(c.longestMs)} (still pending)` : fmt(c.longestMs),
        `${c.plainLost} / ${c.plainAcked}`,
        `${c.durableLost} / ${c.durableAcked}`,
      ]);
      console.error(`  | ${rows.at(-1)!.join(' | ')} |`);
    }
  } finally {
    plain.disconnect();
    await app.close();
    await topo.teardown();
  }
}

const header = [
  'Scenario',
  'Client',
  'First surviving write after fault',
  'After heal',
  'Longest command',
  'Plain lost / acked',
  'Durable lost / acked',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
process.exit(0);
