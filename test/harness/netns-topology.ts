/**
 * A REAL Sentinel topology (master, 2 replicas, 3 Sentinels) with every node in its own network
 * namespace of a `PartitionNet`, for partition tests. Nodes listen only on their namespace
 * address; data nodes on port 7000, Sentinels on 27000 (never 6379/26379).
 *
 * The harness talks to the nodes from the control address (never cut), so it can watch the
 * Sentinels while the client under test is cut off from them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbstractConnector, Redis } from 'ioredis';
import { PartitionNet } from './partition-net.js';
import { pollUntil, redisServerBin } from '@bastion/redis-topology';

export const DATA_PORT = 7000;
export const SENTINEL_PORT = 27000;

export interface NetnsTopologyOptions {
  masterName?: string;
  /** Sentinel `down-after-milliseconds`. Default 1000. */
  downAfterMs?: number;
  /** Sentinel `failover-timeout`. Default 4000. */
  failoverTimeoutMs?: number;
  /** `min-replicas-to-write` on every data node. Default 1. */
  minReplicasToWrite?: number;
  /** `min-replicas-max-lag` (seconds) on every data node. Default 2. */
  minReplicasMaxLag?: number;
}

export interface NetnsNode {
  readonly name: string;
  readonly role: 'master' | 'replica' | 'sentinel';
  readonly ip: string;
  readonly port: number;
  process: ChildProcess | undefined;
}

type NetStream = Awaited<ReturnType<AbstractConnector['connect']>>;

/** ioredis has no `localAddress` option: this connector binds the control address. */
function boundConnector(host: string, port: number, localAddress: string) {
  return class extends AbstractConnector {
    constructor() {
      super(500);
    }
    connect(): Promise<NetStream> {
      this.connecting = true;
      this.stream = createConnection({ host, port, localAddress });
      return Promise.resolve(this.stream);
    }
  };
}

export class NetnsTopology {
  readonly nodes: NetnsNode[] = [];
  readonly masterName: string;
  private readonly dir = mkdtempSync(join(tmpdir(), 'bastion-partitions-'));
  private tornDown = false;

  private constructor(
    readonly net: PartitionNet,
    readonly options: Required<NetnsTopologyOptions>,
  ) {
    this.masterName = options.masterName;
  }

  static async start(opts: NetnsTopologyOptions = {}): Promise<NetnsTopology> {
    const options: Required<NetnsTopologyOptions> = {
      masterName: opts.masterName ?? 'mymaster',
      downAfterMs: opts.downAfterMs ?? 1000,
      failoverTimeoutMs: opts.failoverTimeoutMs ?? 4000,
      minReplicasToWrite: opts.minReplicasToWrite ?? 1,
      minReplicasMaxLag: opts.minReplicasMaxLag ?? 2,
    };
    bin(); // fails early with the install hint when redis-server is missing
    const net = PartitionNet.create([
      'master',
      'replica-1',
      'replica-2',
      'sentinel-1',
      'sentinel-2',
      'sentinel-3',
    ]);
    const topo = new NetnsTopology(net, options);
    try {
      await topo.boot();
      return topo;
    } catch (err) {
      await topo.teardown();
      throw err;
    }
  }

  get master(): NetnsNode {
    return this.nodes.find((n) => n.role === 'master')!;
  }
  get replicas(): NetnsNode[] {
    return this.nodes.filter((n) => n.role === 'replica');
  }
  get sentinels(): NetnsNode[] {
    return this.nodes.filter((n) => n.role === 'sentinel');
  }
  get dataNodes(): NetnsNode[] {
    return this.nodes.filter((n) => n.role !== 'sentinel');
  }
  /** `"ip:27000,ip:27000,ip:27000"`, as the module takes it. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `${s.ip}:${s.port}`).join(',');
  }
  nodeByIp(ip: string): NetnsNode {
    const node = this.nodes.find((n) => n.ip === ip);
    if (!node) throw new Error(`no node of this topology has address ${ip}`);
    return node;
  }

  private async boot(): Promise<void> {
    const masterIp = this.net.ip('master');
    for (const name of ['master', 'replica-1', 'replica-2']) {
      const ip = this.net.ip(name);
      const node: NetnsNode = {
        name,
        role: name === 'master' ? 'master' : 'replica',
        ip,
        port: DATA_PORT,
        process: undefined,
      };
      const conf = [
        `port ${DATA_PORT}`,
        `bind ${ip}`,
        'protected-mode no',
        `dir ${this.dir}`,
        `dbfilename ${name}.rdb`,
        `logfile ${join(this.dir, `${name}.log`)}`,
        'save ""',
        'appendonly no',
        'repl-diskless-sync yes',
        'repl-diskless-sync-delay 0',
        'repl-diskless-load disabled',
        `min-replicas-to-write ${this.options.minReplicasToWrite}`,
        `min-replicas-max-lag ${this.options.minReplicasMaxLag}`,
        ...(name === 'master' ? [] : [`replicaof ${masterIp} ${DATA_PORT}`]),
      ];
      this.spawnNode(node, conf, false);
    }
    await Promise.all(
      this.dataNodes.map((n) =>
        this.waitUntil(async () => (await this.command(n, 'PING')) === 'PONG', `${n.name} answers`),
      ),
    );
    await Promise.all(
      this.replicas.map((r) =>
        this.waitUntil(
          async () => /master_link_status:up/.test(await this.command(r, 'INFO', 'replication')),
          `${r.name} finished its first sync`,
        ),
      ),
    );
    const m = this.masterName;
    for (const name of ['sentinel-1', 'sentinel-2', 'sentinel-3']) {
      const ip = this.net.ip(name);
      const node: NetnsNode = { name, role: 'sentinel', ip, port: SENTINEL_PORT, process: undefined };
      this.spawnNode(
        node,
        [
          `port ${SENTINEL_PORT}`,
          `bind ${ip}`,
          'protected-mode no',
          `dir ${this.dir}`,
          `logfile ${join(this.dir, `${name}.log`)}`,
          `sentinel monitor ${m} ${masterIp} ${DATA_PORT} 2`,
          `sentinel down-after-milliseconds ${m} ${this.options.downAfterMs}`,
          `sentinel failover-timeout ${m} ${this.options.failoverTimeoutMs}`,
          `sentinel parallel-syncs ${m} 1`,
        ],
        true,
      );
    }
    await this.waitSettled(masterIp);
  }

  private spawnNode(node: NetnsNode, conf: string[], sentinel: boolean): void {
    const path = join(this.dir, `${node.name}.conf`);
    writeFileSync(path, conf.join('\n') + '\n');
    // `ip netns exec` execs the server in place: the child's pid is the server's.
    const child = spawn(
      this.net.execIn(node.name)[0]!,
      [...this.net.execIn(node.name).slice(1), bin(), path, ...(sentinel ? ['--sentinel'] : [])],
      { stdio: 'ignore' },
    );
    child.on('error', () => undefined);
    node.process = child;
    this.nodes.push(node);
  }

  /**
   * Waits until every Sentinel names `masterIp` as master with both replicas up and knows the
   * other two Sentinels.
   */
  async waitSettled(masterIp: string, timeoutMs = 30_000): Promise<void> {
    await Promise.all(
      this.sentinels.map((s) =>
        this.waitUntil(
          async () => {
            const master = toMap(
              (await this.command(s, 'SENTINEL', 'MASTER', this.masterName)) as unknown as string[],
            );
            if (master.ip !== masterIp || master.flags !== 'master') return false;
            const replicas = (
              (await this.command(s, 'SENTINEL', 'REPLICAS', this.masterName)) as unknown as string[][]
            ).map(toMap);
            const up = replicas.filter((r) => r.flags === 'slave' && r['master-link-status'] === 'ok');
            return up.length >= 2 && Number(master['num-other-sentinels']) >= 2;
          },
          `${s.name} sees master ${masterIp}, 2 replicas and 2 other Sentinels`,
          timeoutMs,
        ),
      ),
    );
  }

  /** The master address named by a majority of the Sentinels, if any. */
  async sentinelMajorityMaster(): Promise<string | undefined> {
    const answers = await Promise.all(
      this.sentinels.map((s) =>
        this.command(s, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName).then(
          (a) => (Array.isArray(a) ? String(a[0]) : undefined),
          () => undefined,
        ),
      ),
    );
    return answers.find((a) => a && answers.filter((b) => b === a).length >= 2);
  }

  /** Waits until a majority of Sentinels name a master other than `oldIp`; returns its address. */
  async waitForNewMaster(oldIp: string, timeoutMs = 20_000): Promise<string> {
    let found = oldIp;
    await this.waitUntil(
      async () => {
        const ip = await this.sentinelMajorityMaster();
        if (!ip || ip === oldIp) return false;
        found = ip;
        return true;
      },
      `Sentinels agree on a master other than ${oldIp}`,
      timeoutMs,
    );
    return found;
  }

  /** `ROLE` of a data node: 'master' | 'slave'. */
  async role(node: NetnsNode): Promise<string> {
    const reply = (await this.command(node, 'ROLE')) as unknown as unknown[];
    return String(reply[0]);
  }

  /** Opens a control-plane connection (from the never-cut control address) to a node. */
  connect(node: NetnsNode, commandTimeoutMs = 2000): Redis {
    const client = new Redis({
      Connector: boundConnector(node.ip, node.port, this.net.controlIp),
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
      commandTimeout: commandTimeoutMs,
      protocol: 2,
    });
    client.on('error', () => undefined);
    return client;
  }

  /** One command on a fresh control-plane connection with a deadline. Never retries, never hangs. */
  async command(node: NetnsNode, ...args: (string | number)[]): Promise<string> {
    const client = this.connect(node);
    try {
      await client.connect();
      const [cmd, ...rest] = args;
      return (await client.call(String(cmd), ...rest)) as string;
    } finally {
      client.disconnect();
    }
  }

  async waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    try {
      await pollUntil(check, what, timeoutMs, 50);
    } catch (err) {
      throw new Error(`partition harness: ${(err as Error).message} — server logs in ${this.dir}`, {
        cause: err,
      });
    }
  }

  /** Kills every server, deletes every namespace and link, removes the temp dir. Idempotent. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      }),
    );
    this.net.destroy();
    if (!process.env.KEEP_REDIS_LOGS) rmSync(this.dir, { recursive: true, force: true });
  }
}

let cachedBin: string | undefined;
function bin(): string {
  return (cachedBin ??= redisServerBin());
}

function toMap(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
