/**
 * A REAL Redis Cluster (N masters, each with R replicas) made of `redis-server --cluster-enabled`
 * processes on free loopback ports in a temp dir, created with `redis-cli --cluster create`.
 * Shared by the cluster suites and `npm run bench:cluster`.
 *
 * It hands over only when every node reports `cluster_state:ok` with all 16384 slots served, all
 * nodes agree on who serves which slot, and every replica has finished its first sync: a failover
 * before the first sync promotes an empty replica. Each node's client port p has its cluster bus
 * on p + 10000; both are free when picked, neither is ever 6379. It never touches a server it did
 * not start.
 *
 * Topology stays predictable: no replica migration between masters, and a replica may always
 * stand for election however long its link has been down (`cluster-replica-validity-factor 0`).
 * Nothing is persisted (`save ""`, no AOF): a node that restarts comes back empty, as in any
 * cluster run without persistence.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { CLUSTER_SLOTS, clusterKeySlot } from './cluster-key-slot.js';
import { isLiveMaster, parseClusterNodes, slotOwners, type ClusterNodesEntry } from './cluster-nodes.js';
import { freePortWithOffset } from './free-port.js';
import { pollUntil } from './poll-until.js';
import {
  freezeServer,
  isRunning,
  killAndWait,
  killServer,
  redisCliBin,
  redisServerBin,
  spawnTracked,
  thawServer,
} from './server-processes.js';

export interface ClusterOptions {
  /** Masters (shards). Default 3, the fewest `redis-cli --cluster create` accepts. */
  masters?: number;
  /** Replicas of each master. Default 1. */
  replicasPerMaster?: number;
  /** `requirepass` + `masterauth` on every node (redis-cli gets it through `REDISCLI_AUTH`). */
  password?: string;
  /** `cluster-node-timeout`. Default 1000: short, so a failover takes a second or two in tests. */
  nodeTimeoutMs?: number;
  /** Extra directives appended to every node's config. */
  extraConfig?: string[];
  /** How long `start()` (and each wait of the harness) waits at most. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface RedisClusterNode {
  readonly name: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The cluster bus: port + 10000. */
  readonly busPort: number;
  readonly configPath: string;
  /** `cluster-config-file`: kept across restarts, so a restarted node rejoins as itself. */
  readonly nodesConfPath: string;
  /** The cluster node id (`CLUSTER MYID`), known once the node has started. */
  id: string;
  process: ChildProcess | undefined;
  stopped: boolean;
}

export type ClusterFailoverMode = 'FORCE' | 'TAKEOVER';

type ResolvedClusterOptions = Required<Omit<ClusterOptions, 'password'>> & Pick<ClusterOptions, 'password'>;

const HOST = '127.0.0.1';
const BUS_PORT_OFFSET = 10_000;

/** A node process exited while the harness waited for it to answer (a port taken meanwhile, a bad config). */
class NodeExitedError extends Error {
  override readonly name = 'NodeExitedError';
}

export class RedisCluster {
  readonly nodes: RedisClusterNode[] = [];
  private readonly serverBin: string;
  private readonly cliBin: string;
  /** Who served each slot when the harness last saw the cluster agree (or moved a slot itself). */
  private knownSlotOwners: Array<string | undefined> = Array.from<string | undefined>({
    length: CLUSTER_SLOTS,
  });
  private tornDown = false;

  private constructor(
    readonly dir: string,
    readonly options: ResolvedClusterOptions,
  ) {
    this.serverBin = redisServerBin();
    this.cliBin = redisCliBin();
  }

  /**
   * Starts the cluster and resolves once it is fully settled. Tears down on failure; starts over
   * once on fresh ports when a node exited while starting (a port taken in the meantime).
   */
  static async start(opts: ClusterOptions = {}): Promise<RedisCluster> {
    const options: ResolvedClusterOptions = {
      masters: opts.masters ?? 3,
      replicasPerMaster: opts.replicasPerMaster ?? 1,
      password: opts.password,
      nodeTimeoutMs: opts.nodeTimeoutMs ?? 1000,
      extraConfig: opts.extraConfig ?? [],
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
    };
    if (!Number.isInteger(options.masters) || options.masters < 3) {
      throw new Error(
        `RedisCluster needs at least 3 masters (got ${options.masters}): redis-cli refuses fewer`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      const cluster = new RedisCluster(mkdtempSync(join(tmpdir(), 'bastion-cluster-')), options);
      try {
        await cluster.boot();
        return cluster;
      } catch (err) {
        await cluster.teardown();
        if (attempt < 2 && err instanceof NodeExitedError) continue;
        throw err;
      }
    }
  }

  /** `[{host, port}]` of every node, as ioredis `Cluster` takes its startup nodes. */
  get seedNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  /** Client options for a direct (non-cluster) connection to one node, password included. */
  connectionOptions(node: RedisClusterNode): { host: string; port: number; password?: string } {
    return {
      host: node.host,
      port: node.port,
      ...(this.options.password ? { password: this.options.password } : {}),
    };
  }

  nodeByPort(port: number): RedisClusterNode {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node of this cluster listens on port ${port}`);
    return node;
  }

  nodeById(id: string): RedisClusterNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node of this cluster has the id ${id}`);
    return node;
  }

  /** A node id as a name for messages (`node-3`), or what it is when it is no node of this cluster. */
  private describe(id: string | undefined): string {
    if (!id) return 'nobody';
    return this.nodes.find((n) => n.id === id)?.name ?? `unknown node ${id}`;
  }

  /** Nodes whose process runs and is not frozen: the ones that can answer. */
  reachableNodes(): RedisClusterNode[] {
    return this.nodes.filter((n) => isRunning(n.process) && !n.stopped);
  }

  private async boot(): Promise<void> {
    const { masters, replicasPerMaster } = this.options;
    const ports = await this.allocatePorts(masters * (1 + replicasPerMaster));
    ports.forEach((port, i) => this.addNode(`node-${i + 1}`, port));
    for (const node of this.nodes) this.spawnNode(node);
    await Promise.all(this.nodes.map((n) => this.waitForPing(n)));
    for (const node of this.nodes) node.id = await this.command(node, 'CLUSTER', 'MYID');
    await this.create();
    await this.waitClusterOk();
    await this.waitUntil(async () => {
      for (const node of this.nodes) {
        const view = await this.view(node);
        const liveMasters = view.filter(isLiveMaster);
        if (liveMasters.length !== masters) return false;
        for (const m of liveMasters) {
          const replicas = view.filter((e) => e.masterId === m.id && !e.flags.includes('fail'));
          if (replicas.length !== replicasPerMaster) return false;
        }
      }
      return true;
    }, `every node sees ${masters} masters with ${replicasPerMaster} replica(s) each`);
  }

  private async allocatePorts(count: number): Promise<number[]> {
    const taken = new Set<number>();
    const ports: number[] = [];
    while (ports.length < count) {
      const port = await freePortWithOffset(BUS_PORT_OFFSET);
      if (taken.has(port) || taken.has(port + BUS_PORT_OFFSET)) continue;
      taken.add(port).add(port + BUS_PORT_OFFSET);
      ports.push(port);
    }
    return ports;
  }

  private addNode(name: string, port: number): void {
    const { password, nodeTimeoutMs } = this.options;
    const nodesConfPath = join(this.dir, `nodes-${port}.conf`);
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
      'cluster-enabled yes',
      `cluster-config-file ${nodesConfPath}`,
      `cluster-node-timeout ${nodeTimeoutMs}`,
      `cluster-announce-ip ${HOST}`,
      'cluster-require-full-coverage yes',
      'cluster-replica-validity-factor 0',
      'cluster-allow-replica-migration no',
      'repl-diskless-sync yes',
      'repl-diskless-sync-delay 0',
      'repl-diskless-load disabled',
      ...(password ? [`requirepass ${password}`, `masterauth ${password}`] : []),
      ...this.options.extraConfig,
    ];
    // A config file rather than argv: the password stays out of `ps`.
    const configPath = join(this.dir, `${name}.conf`);
    writeFileSync(configPath, lines.join('\n') + '\n');
    this.nodes.push({
      name,
      host: HOST,
      port,
      busPort: port + BUS_PORT_OFFSET,
      configPath,
      nodesConfPath,
      id: '',
      process: undefined,
      stopped: false,
    });
  }

  private spawnNode(node: RedisClusterNode): void {
    node.process = spawnTracked(this.serverBin, [node.configPath]);
    node.stopped = false;
  }

  /** `redis-cli --cluster create`, the password through `REDISCLI_AUTH` (never in argv). */
  private async create(): Promise<void> {
    const env = { ...process.env };
    delete env.REDISCLI_AUTH;
    if (this.options.password) env.REDISCLI_AUTH = this.options.password;
    const args = [
      '--cluster',
      'create',
      ...this.nodes.map((n) => `${n.host}:${n.port}`),
      '--cluster-replicas',
      String(this.options.replicasPerMaster),
      '--cluster-yes',
    ];
    await new Promise<void>((resolve, reject) => {
      execFile(
        this.cliBin,
        args,
        { env, timeout: this.options.readyTimeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' },
        (err, stdout, stderr) => {
          // redis-cli may exit 0 after printing an error; it prints this line only on success.
          if (!err && /\[OK\] All 16384 slots covered/.test(stdout)) return resolve();
          const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n');
          reject(new Error(`Redis harness: redis-cli --cluster create failed:\n${output}`, { cause: err }));
        },
      );
    });
  }

  /** `CLUSTER NODES` as `node` sees it. */
  async view(node: RedisClusterNode): Promise<ClusterNodesEntry[]> {
    return parseClusterNodes(await this.command(node, 'CLUSTER', 'NODES'));
  }

  private firstReachable(): RedisClusterNode {
    const node = this.reachableNodes()[0];
    if (!node) throw new Error('no node of the cluster is running and unfrozen');
    return node;
  }

  /**
   * The masters as the cluster sees them now (through `via`, by default the first reachable
   * node): nodes flagged master and not failed, ordered by their first slot. Roles change with
   * failovers: ask again after one.
   */
  async masters(via: RedisClusterNode = this.firstReachable()): Promise<RedisClusterNode[]> {
    return (await this.view(via))
      .filter(isLiveMaster)
      .toSorted((a, b) => firstSlot(a) - firstSlot(b))
      .map((e) => this.nodeById(e.id));
  }

  /** The replicas of `master` that the cluster (through `via`) does not consider failed. */
  async replicasOf(
    master: RedisClusterNode,
    via: RedisClusterNode = this.firstReachable(),
  ): Promise<RedisClusterNode[]> {
    return (await this.view(via))
      .filter((e) => e.masterId === master.id && e.flags.includes('slave') && !e.flags.includes('fail'))
      .map((e) => this.nodeById(e.id));
  }

  /** The hash slot of `key` (CRC16 with hash tags, as the server's `CLUSTER KEYSLOT`). */
  slotOf(key: string | Uint8Array): number {
    return clusterKeySlot(key);
  }

  /** The master that serves `key`'s slot, as the cluster (through `via`) sees it now. */
  async masterForKey(
    key: string | Uint8Array,
    via: RedisClusterNode = this.firstReachable(),
  ): Promise<RedisClusterNode> {
    const slot = this.slotOf(key);
    const id = slotOwners(await this.view(via))[slot];
    if (!id) throw new Error(`no node serves slot ${slot} in the view of ${via.name}`);
    return this.nodeById(id);
  }

  /** `CLUSTER INFO` of a node as a map (`cluster_state`, `cluster_slots_assigned`, ...). */
  async clusterInfo(node: RedisClusterNode): Promise<Record<string, string>> {
    const info: Record<string, string> = {};
    for (const line of (await this.command(node, 'CLUSTER', 'INFO')).split('\n')) {
      const at = line.indexOf(':');
      if (at > 0) info[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return info;
  }

  /** `ROLE` of a node: 'master' | 'slave'. */
  async role(node: RedisClusterNode): Promise<string> {
    const reply = await this.command<unknown[]>(node, 'ROLE');
    return String(reply[0]);
  }

  /** SIGKILL a node: it vanishes without closing its sockets cleanly. */
  kill(node: RedisClusterNode): Promise<void> {
    return killServer(node);
  }

  /** SIGSTOP a node: it freezes, its sockets stay open and silent. */
  freeze(node: RedisClusterNode): void {
    freezeServer(node);
  }

  /** SIGCONT a frozen node. */
  thaw(node: RedisClusterNode): void {
    thawServer(node);
  }

  /**
   * Starts a node again (killing it first if it runs) on its port with its nodes.conf, so it
   * rejoins as itself; it comes back without data (nothing is persisted). Resolves once it
   * answers PING: `waitClusterOk()` waits for the cluster to take it back.
   */
  async restart(node: RedisClusterNode): Promise<void> {
    await this.kill(node);
    this.spawnNode(node);
    await this.waitForPing(node);
  }

  /**
   * `CLUSTER FAILOVER [FORCE|TAKEOVER]` on a replica; resolves once the replica reports the
   * master role. Without a mode the failover is coordinated with a reachable master and loses
   * no acknowledged write.
   */
  async manualFailover(
    replica: RedisClusterNode,
    mode?: ClusterFailoverMode,
    timeoutMs = this.options.readyTimeoutMs,
  ): Promise<void> {
    await this.command(replica, 'CLUSTER', 'FAILOVER', ...(mode ? [mode] : []));
    await this.waitUntil(
      async () => (await this.role(replica)) === 'master',
      `${replica.name} reports role master after CLUSTER FAILOVER${mode ? ` ${mode}` : ''}`,
      timeoutMs,
    );
    const self = (await this.view(replica)).find((e) => e.id === replica.id);
    for (const [start, end] of self?.slots ?? []) {
      for (let s = start; s <= end; s++) this.knownSlotOwners[s] = replica.id;
    }
  }

  /**
   * Waits until every reachable node agrees that one live master other than `oldMaster` serves
   * all the slots `oldMaster` served, and returns that master. `oldMaster`'s slots are those the
   * harness last saw it serve (or that some node still shows it serving).
   */
  async waitForPromotion(oldMaster: RedisClusterNode, timeoutMs = 20_000): Promise<RedisClusterNode> {
    const lost = new Set<number>();
    this.knownSlotOwners.forEach((id, slot) => id === oldMaster.id && lost.add(slot));
    for (const node of this.reachableNodes()) {
      try {
        slotOwners(await this.view(node)).forEach((id, slot) => id === oldMaster.id && lost.add(slot));
      } catch {
        // a node that does not answer cannot tell what oldMaster served
      }
    }
    if (lost.size === 0) throw new Error(`${oldMaster.name} serves no slot: no promotion to wait for`);
    let promoted: string | undefined;
    await this.waitUntil(
      async () => {
        const voters = this.reachableNodes();
        if (voters.length === 0) return false;
        let candidate: string | undefined;
        for (const view of await Promise.all(voters.map((n) => this.view(n)))) {
          const owners = slotOwners(view);
          for (const slot of lost) {
            const id = owners[slot];
            if (!id || id === oldMaster.id || (candidate !== undefined && id !== candidate)) return false;
            candidate = id;
          }
          const entry = view.find((e) => e.id === candidate);
          if (!entry || !isLiveMaster(entry)) return false;
        }
        promoted = candidate;
        return true;
      },
      `every reachable node agrees on a new master for the ${lost.size} slots of ${oldMaster.name}`,
      timeoutMs,
    );
    for (const slot of lost) this.knownSlotOwners[slot] = promoted;
    return this.nodeById(promoted!);
  }

  /**
   * Moves `slots` with their keys from `fromMaster` to `toMaster` while clients may keep writing,
   * the documented way: `CLUSTER SETSLOT IMPORTING` on the target, `MIGRATING` on the source,
   * `GETKEYSINSLOT` + `MIGRATE ... KEYS` until the slot is empty on the source, then
   * `SETSLOT NODE` on the target, the source and the other reachable masters. Meanwhile clients
   * get `ASK` for keys already moved; afterwards `MOVED`.
   */
  async migrateSlots(
    fromMaster: RedisClusterNode,
    toMaster: RedisClusterNode,
    slots: readonly number[],
    { keysPerBatch = 100, migrateTimeoutMs = 5000 } = {},
  ): Promise<void> {
    if (fromMaster === toMaster) throw new Error(`cannot migrate slots from ${fromMaster.name} to itself`);
    const owners = slotOwners(await this.view(fromMaster));
    for (const slot of slots) {
      if (owners[slot] !== fromMaster.id) {
        throw new Error(
          `slot ${slot} is not served by ${fromMaster.name} (served by ${this.describe(owners[slot])})`,
        );
      }
    }
    const auth = this.options.password ? ['AUTH', this.options.password] : [];
    const commandTimeout = migrateTimeoutMs + 2000;
    const source = await this.connect(fromMaster, commandTimeout);
    let target: Redis | undefined;
    try {
      target = await this.connect(toMaster, commandTimeout);
      for (const slot of slots) {
        await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromMaster.id);
        await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toMaster.id);
        for (;;) {
          // Buffers: keys are binary-safe.
          const keys = (await source.callBuffer('CLUSTER', 'GETKEYSINSLOT', slot, keysPerBatch)) as Buffer[];
          if (keys.length === 0) break;
          await source.call(
            'MIGRATE',
            toMaster.host,
            toMaster.port,
            '',
            0,
            migrateTimeoutMs,
            ...auth,
            'KEYS',
            ...keys,
          );
        }
        await target.call('CLUSTER', 'SETSLOT', slot, 'NODE', toMaster.id);
        await source.call('CLUSTER', 'SETSLOT', slot, 'NODE', toMaster.id);
        this.knownSlotOwners[slot] = toMaster.id;
      }
    } finally {
      source.disconnect();
      target?.disconnect();
    }
    // Gossip would spread the new owner anyway; telling the other masters at once spares clients
    // a stale redirect. A master that does not answer learns it through gossip.
    const others = (await this.masters(toMaster)).filter(
      (m) => m !== fromMaster && m !== toMaster && isRunning(m.process) && !m.stopped,
    );
    await Promise.all(
      others.map(async (m) => {
        for (const slot of slots)
          await this.command(m, 'CLUSTER', 'SETSLOT', slot, 'NODE', toMaster.id).catch(() => undefined);
      }),
    );
  }

  /**
   * Waits until every reachable node reports `cluster_state:ok` with all 16384 slots assigned and
   * served by nodes not failing, all of them agree on who serves each slot and on who is master,
   * replica of whom, or failed, and every reachable replica has its link to its master up (its
   * sync done).
   */
  async waitClusterOk(timeoutMs = this.options.readyTimeoutMs): Promise<void> {
    await this.waitUntil(
      async () => {
        const nodes = this.reachableNodes();
        if (nodes.length === 0) return false;
        for (const info of await Promise.all(nodes.map((n) => this.clusterInfo(n)))) {
          if (info.cluster_state !== 'ok') return false;
          if (Number(info.cluster_slots_assigned) !== CLUSTER_SLOTS) return false;
          if (Number(info.cluster_slots_ok) !== CLUSTER_SLOTS) return false;
        }
        const views = await Promise.all(nodes.map((n) => this.view(n)));
        const roles = views.map(roleSignature);
        if (roles.some((r) => r !== roles[0])) return false;
        const maps = views.map(slotOwners);
        const first = maps[0]!;
        if (maps.some((owners) => owners.some((id, slot) => id !== first[slot]))) return false;
        for (const replication of await Promise.all(
          nodes.map((n) => this.command(n, 'INFO', 'replication')),
        )) {
          if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
        }
        this.knownSlotOwners = first;
        return true;
      },
      'every reachable node reports cluster_state:ok, the same roles and the same 16384 slots served, every replica its link up',
      timeoutMs,
    );
  }

  /** One command on a fresh, short-lived connection with a deadline. Never retries, never hangs. */
  async command<T = string>(node: RedisClusterNode, ...args: Array<string | number | Buffer>): Promise<T> {
    const client = await this.connect(node);
    try {
      const [cmd, ...rest] = args;
      return (await client.call(String(cmd), ...rest)) as T;
    } finally {
      client.disconnect();
    }
  }

  /** A plain (non-cluster) connection to one node: no retry, no redirect following, deadlines. */
  private async connect(node: RedisClusterNode, commandTimeout = 2000): Promise<Redis> {
    const client = new Redis({
      host: node.host,
      port: node.port,
      password: this.options.password,
      lazyConnect: true,
      enableOfflineQueue: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
      commandTimeout,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw err;
    }
    return client;
  }

  private async pingOk(node: RedisClusterNode): Promise<boolean> {
    return (await this.command(node, 'PING')) === 'PONG';
  }

  /** Waits for PING; fails at once, with the end of the node's log, if the process exits meanwhile. */
  private async waitForPing(node: RedisClusterNode): Promise<void> {
    const child = node.process;
    const exitedError = () =>
      new NodeExitedError(
        `Redis harness: ${node.name} (port ${node.port}) exited while starting (code ${child?.exitCode}, ` +
          `signal ${child?.signalCode}); end of its log:\n${this.logTail(node)}`,
      );
    if (!isRunning(child)) throw exitedError();
    let onExit: (() => void) | undefined;
    const exited = new Promise<never>((_, reject) => {
      onExit = () => reject(exitedError());
      child.once('exit', onExit);
    });
    try {
      await Promise.race([this.waitUntil(() => this.pingOk(node), `${node.name} answers PING`), exited]);
    } finally {
      child.off('exit', onExit!);
    }
  }

  private logTail(node: RedisClusterNode, lines = 8): string {
    const path = join(this.dir, `${node.name}.log`);
    if (!existsSync(path)) return '(no log)';
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
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

  /** Kills every process this cluster started (frozen ones too) and removes its temp dir. Idempotent. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all(this.nodes.map((node) => killAndWait(node.process)));
    if (!process.env.KEEP_REDIS_LOGS) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The lowest slot an entry serves (16384 for none): masters sort by it. */
function firstSlot(entry: ClusterNodesEntry): number {
  return entry.slots[0]?.[0] ?? CLUSTER_SLOTS;
}

/** Who is master, replica of whom, or failed, in one view: equal strings mean the views agree. */
function roleSignature(view: readonly ClusterNodesEntry[]): string {
  return view
    .map((e) => {
      const role = e.flags.includes('master') ? 'master' : `replica-of-${e.masterId}`;
      return `${e.id}:${role}${e.flags.includes('fail') ? ':fail' : ''}`;
    })
    .toSorted()
    .join(' ');
}
