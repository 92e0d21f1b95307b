/**
 * A REAL Redis Sentinel topology (1 master, N replicas, M Sentinels) made of `redis-server`
 * processes on free loopback ports in a temp dir. Shared by every suite, the benchmarks and
 * `npm run demo`.
 *
 * It hands over only when every replica has finished its first sync and every Sentinel sees the
 * master, all replicas and the other Sentinels: a failover before the first sync promotes an
 * empty replica. It never touches port 6379 nor any server it did not start.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { pollUntil } from './poll-until.js';
import {
  freezeServer,
  killAndWait,
  killServer,
  redisServerBin,
  spawnTracked,
  thawServer,
} from './server-processes.js';

export type NodeRole = 'master' | 'replica' | 'sentinel';

export interface TopologyOptions {
  /** Replicas to start. Default 2. */
  replicas?: number;
  /** Sentinels to start. Default 3. */
  sentinels?: number;
  /** Sentinel quorum. Default 2. */
  quorum?: number;
  masterName?: string;
  /** `requirepass` + `masterauth` on the data nodes (and `sentinel auth-pass`). */
  password?: string;
  /** `requirepass` on the Sentinels themselves (and `sentinel sentinel-pass` between them). */
  sentinelPassword?: string;
  /** Sentinel `down-after-milliseconds`. Default 1000: short, for tests. */
  downAfterMs?: number;
  /** Sentinel `failover-timeout`. Default 4000. */
  failoverTimeoutMs?: number;
  /** Extra directives appended to every data node's config. */
  extraDataConfig?: string[];
  /** How long `start()` waits for the topology to settle. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface RedisNode {
  readonly name: string;
  readonly role: NodeRole;
  readonly port: number;
  readonly host: '127.0.0.1';
  readonly configPath: string;
  process: ChildProcess | undefined;
  stopped: boolean;
}

const HOST = '127.0.0.1';

export class RedisTopology {
  readonly masterName: string;
  readonly nodes: RedisNode[] = [];
  private readonly bin: string;
  private tornDown = false;

  private constructor(
    readonly dir: string,
    readonly options: Required<Omit<TopologyOptions, 'password' | 'sentinelPassword'>> &
      Pick<TopologyOptions, 'password' | 'sentinelPassword'>,
  ) {
    this.masterName = options.masterName;
    this.bin = redisServerBin();
  }

  /** Starts the topology and resolves once it is fully settled. Tears down on failure. */
  static async start(opts: TopologyOptions = {}): Promise<RedisTopology> {
    const options = {
      replicas: opts.replicas ?? 2,
      sentinels: opts.sentinels ?? 3,
      quorum: opts.quorum ?? 2,
      masterName: opts.masterName ?? 'mymaster',
      password: opts.password,
      sentinelPassword: opts.sentinelPassword,
      downAfterMs: opts.downAfterMs ?? 1000,
      failoverTimeoutMs: opts.failoverTimeoutMs ?? 4000,
      extraDataConfig: opts.extraDataConfig ?? [],
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
    };
    const topo = new RedisTopology(mkdtempSync(join(tmpdir(), 'bastion-redis-')), options);
    try {
      await topo.boot();
      return topo;
    } catch (err) {
      await topo.teardown();
      throw err;
    }
  }

  get master(): RedisNode {
    return this.nodes.find((n) => n.role === 'master')!;
  }
  get replicas(): RedisNode[] {
    return this.nodes.filter((n) => n.role === 'replica');
  }
  get sentinels(): RedisNode[] {
    return this.nodes.filter((n) => n.role === 'sentinel');
  }
  get dataNodes(): RedisNode[] {
    return this.nodes.filter((n) => n.role !== 'sentinel');
  }
  /** `[{host, port}]` of every Sentinel, as clients take them. */
  get sentinelAddresses(): Array<{ host: string; port: number }> {
    return this.sentinels.map((s) => ({ host: s.host, port: s.port }));
  }
  /** `"127.0.0.1:p1,127.0.0.1:p2,..."` */
  get sentinelList(): string {
    return this.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
  }

  nodeByPort(port: number): RedisNode {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node of this topology listens on port ${port}`);
    return node;
  }

  private async boot(): Promise<void> {
    const ports = await this.allocatePorts(1 + this.options.replicas + this.options.sentinels);
    const masterPort = ports[0]!;
    this.addDataNode('master', 'master', masterPort, undefined);
    for (let i = 0; i < this.options.replicas; i++) {
      this.addDataNode(`replica-${i + 1}`, 'replica', ports[1 + i]!, masterPort);
    }
    for (const node of this.dataNodes) this.spawnNode(node);
    await Promise.all(
      this.dataNodes.map((n) => this.waitUntil(() => this.pingOk(n), `${n.name} answers PING`)),
    );
    await Promise.all(
      this.replicas.map((r) =>
        this.waitUntil(
          async () => /master_link_status:up/.test(await this.command(r, 'INFO', 'replication')),
          `${r.name} finished its first sync (master_link_status:up)`,
        ),
      ),
    );
    for (let i = 0; i < this.options.sentinels; i++) {
      const port = ports[1 + this.options.replicas + i]!;
      const node = this.addSentinel(`sentinel-${i + 1}`, port, masterPort);
      this.spawnNode(node);
    }
    await this.waitSettled(masterPort);
  }

  /**
   * Waits until every Sentinel agrees on `masterPort` as the master, sees every replica up with
   * its link up, and knows all the other Sentinels.
   */
  async waitSettled(masterPort?: number, timeoutMs = this.options.readyTimeoutMs): Promise<void> {
    const expectedReplicas = this.options.replicas;
    const expectedSentinels = this.options.sentinels - 1;
    await Promise.all(
      this.sentinels
        .filter((s) => !s.stopped)
        .map((s) =>
          this.waitUntil(
            async () => {
              const master = toMap(
                (await this.command(s, 'SENTINEL', 'MASTER', this.masterName)) as unknown as string[],
              );
              if (masterPort !== undefined && Number(master.port) !== masterPort) return false;
              if (master.flags !== 'master') return false;
              const replicas = (
                (await this.command(s, 'SENTINEL', 'REPLICAS', this.masterName)) as unknown as string[][]
              ).map(toMap);
              const upReplicas = replicas.filter(
                (r) => r.flags === 'slave' && r['master-link-status'] === 'ok',
              );
              if (upReplicas.length < expectedReplicas) return false;
              return Number(master['num-other-sentinels']) >= expectedSentinels;
            },
            `${s.name} sees the master, ${expectedReplicas} replicas and ${expectedSentinels} other Sentinels`,
            timeoutMs,
          ),
        ),
    );
  }

  private async allocatePorts(count: number): Promise<number[]> {
    const ports = new Set<number>();
    while (ports.size < count) {
      const port = await freePort();
      if (port !== 6379 && port !== 26379 && port < 55_000) ports.add(port);
    }
    return [...ports];
  }

  private addDataNode(name: string, role: NodeRole, port: number, masterPort: number | undefined): RedisNode {
    const { password } = this.options;
    const lines = [
      `port ${port}`,
      `bind ${HOST}`,
      'protected-mode yes',
      'daemonize no',
      `dir ${this.dir}`,
      `dbfilename ${name}.rdb`,
      `logfile ${join(this.dir, `${name}.log`)}`,
      'save ""',
      'appendonly no',
      'repl-diskless-sync yes',
      'repl-diskless-sync-delay 0',
      'repl-diskless-load disabled',
      ...(password ? [`requirepass ${password}`, `masterauth ${password}`] : []),
      ...(masterPort !== undefined ? [`replicaof ${HOST} ${masterPort}`] : []),
      ...this.options.extraDataConfig,
    ];
    const configPath = join(this.dir, `${name}.conf`);
    writeFileSync(configPath, lines.join('\n') + '\n');
    const node: RedisNode = { name, role, port, host: HOST, configPath, process: undefined, stopped: false };
    this.nodes.push(node);
    return node;
  }

  private addSentinel(name: string, port: number, masterPort: number): RedisNode {
    const { password, sentinelPassword, quorum, downAfterMs, failoverTimeoutMs } = this.options;
    const m = this.masterName;
    const lines = [
      `port ${port}`,
      `bind ${HOST}`,
      'daemonize no',
      `dir ${this.dir}`,
      `logfile ${join(this.dir, `${name}.log`)}`,
      `sentinel monitor ${m} ${HOST} ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds ${m} ${downAfterMs}`,
      `sentinel failover-timeout ${m} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${m} 1`,
      ...(password ? [`sentinel auth-pass ${m} ${password}`] : []),
      ...(sentinelPassword
        ? [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`]
        : []),
    ];
    // Sentinel rewrites its config file (state, discovered peers): it must be writable, hence the temp dir.
    const configPath = join(this.dir, `${name}.conf`);
    writeFileSync(configPath, lines.join('\n') + '\n');
    const node: RedisNode = {
      name,
      role: 'sentinel',
      port,
      host: HOST,
      configPath,
      process: undefined,
      stopped: false,
    };
    this.nodes.push(node);
    return node;
  }

  private spawnNode(node: RedisNode): void {
    const args = node.role === 'sentinel' ? [node.configPath, '--sentinel'] : [node.configPath];
    node.process = spawnTracked(this.bin, args);
    node.stopped = false;
  }

  /** SIGKILL a node: it vanishes without closing its sockets cleanly. */
  kill(node: RedisNode): Promise<void> {
    return killServer(node);
  }

  /** SIGSTOP a node: it freezes, its sockets stay open and silent. */
  freeze(node: RedisNode): void {
    freezeServer(node);
  }

  /** SIGCONT a frozen node. */
  thaw(node: RedisNode): void {
    thawServer(node);
  }

  /** Start a killed node again on its port with its (possibly Sentinel-rewritten) config. */
  async restart(node: RedisNode): Promise<void> {
    await this.kill(node);
    this.spawnNode(node);
    await this.waitUntil(() => this.pingOk(node), `${node.name} answers PING after restart`);
  }

  /** `SENTINEL FAILOVER <master>` through the first running Sentinel. */
  async triggerFailover(): Promise<void> {
    const sentinel = this.sentinels.find((s) => s.process && !s.stopped);
    if (!sentinel) throw new Error('no running Sentinel to ask for a failover');
    await this.command(sentinel, 'SENTINEL', 'FAILOVER', this.masterName);
  }

  /** The master address that a running Sentinel reports. */
  async currentMasterPort(): Promise<number | undefined> {
    for (const s of this.sentinels) {
      if (!s.process || s.stopped) continue;
      try {
        const addr = (await this.command(
          s,
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          this.masterName,
        )) as unknown as string[] | null;
        if (addr) return Number(addr[1]);
      } catch {
        // try the next Sentinel
      }
    }
    return undefined;
  }

  /** Waits until every running Sentinel names a master other than `oldPort`; returns the new port. */
  async waitForNewMaster(oldPort: number, timeoutMs = 20_000): Promise<number> {
    let newPort = oldPort;
    await this.waitUntil(
      async () => {
        const ports = await Promise.all(
          this.sentinels
            .filter((s) => s.process && !s.stopped)
            .map(async (s) => {
              const addr = (await this.command(
                s,
                'SENTINEL',
                'GET-MASTER-ADDR-BY-NAME',
                this.masterName,
              )) as unknown as string[] | null;
              return addr ? Number(addr[1]) : undefined;
            }),
        );
        if (ports.length === 0 || ports.some((p) => p === undefined || p === oldPort)) return false;
        newPort = ports[0]!;
        return ports.every((p) => p === newPort);
      },
      `Sentinels agree on a new master (old port ${oldPort})`,
      timeoutMs,
    );
    return newPort;
  }

  /** `ROLE` of a data node: 'master' | 'slave'. */
  async role(node: RedisNode): Promise<string> {
    const reply = (await this.command(node, 'ROLE')) as unknown as unknown[];
    return String(reply[0]);
  }

  /** One command on a fresh, short-lived connection with a deadline. Never retries, never hangs. */
  async command(node: RedisNode, ...args: (string | number)[]): Promise<string> {
    const isSentinel = node.role === 'sentinel';
    const client = new Redis({
      host: node.host,
      port: node.port,
      password: isSentinel ? this.options.sentinelPassword : this.options.password,
      lazyConnect: true,
      enableOfflineQueue: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
      commandTimeout: 2000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const [cmd, ...rest] = args;
      return (await client.call(String(cmd), ...rest)) as string;
    } finally {
      client.disconnect();
    }
  }

  /** A client options object for direct connections to a data node (password included). */
  connectionOptions(node: RedisNode): { host: string; port: number; password?: string } {
    return {
      host: node.host,
      port: node.port,
      ...(this.options.password ? { password: this.options.password } : {}),
    };
  }

  private async pingOk(node: RedisNode): Promise<boolean> {
    return (await this.command(node, 'PING')) === 'PONG';
  }

  /** `pollUntil` with a pointer to the server logs when it times out. */
  async waitUntil(
    check: () => Promise<boolean>,
    what: string,
    timeoutMs = this.options.readyTimeoutMs,
  ): Promise<void> {
    try {
      await pollUntil(check, what, timeoutMs, 50);
    } catch (err) {
      throw new Error(`Redis harness: ${(err as Error).message} — server logs in ${this.dir}`, {
        cause: err,
      });
    }
  }

  /** Kills every process this topology started and removes its temp dir. Idempotent. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all(this.nodes.map((node) => killAndWait(node.process)));
    if (!process.env.KEEP_REDIS_LOGS) rmSync(this.dir, { recursive: true, force: true });
  }
}

function toMap(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
