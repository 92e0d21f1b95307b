import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import type { Logger } from '@nestjs/common';
import { Cluster, type ClusterOptions, type Command, type NatMap, type Redis } from 'ioredis';
import { abandonConnection } from './ioredis-internals.js';
import {
  interceptCommands,
  nodeConnection,
  refreshSlots,
  refreshSlotsFrom,
  resendCommand,
  slotMasters,
} from './cluster-internals.js';
import { redactCommandArguments } from './command-argument-redaction.js';
import type { DurableWriteCounts } from './managed-redis-client.js';
import type { RateLimitedLogger } from './rate-limited-logger.js';
import type { RedisClusterClientRole } from './redis-cluster-options.interface.js';
import type { RedisNatMap } from './redis-sentinel-options.interface.js';
import type {
  ResolvedClusterClientDefinition,
  ResolvedRedisClusterOptions,
} from './redis-cluster-options.resolver.js';
import type { RedisClusterEvents } from './redis-cluster.events.js';
import { RedisSentinelStartupError } from './redis-sentinel.errors.js';
import { cappedBackoff, DeadlineExceededError, sleep, withDeadline } from './timing.js';

/** How long after the last sign of a failing node the slot map is reloaded fast (see `failoverRefreshIntervalMs`). */
const FAST_WINDOW_MS = 10_000;
/** Command errors that mean a node is gone, frozen, or the cluster is re-electing: reload the slot map fast. */
const FAILING_NODE_ERROR =
  /^(CLUSTERDOWN|Command timed out|Connection is closed|Too many Cluster redirections)/;
/**
 * Deadline of `CLUSTER SLOTS` on one node during the fast refresh (the query runs on a fresh
 * connection: connect, AUTH, CLUSTER SLOTS): far above a healthy node's answer in one data centre,
 * far below `slotsRefreshTimeoutMs`.
 */
const FAST_REFRESH_TIMEOUT_MS = 200;
/** Delay between two tries of a command refused with CLUSTERDOWN (an election takes about a second). */
const CLUSTERDOWN_RETRY_MS = 50;
/** A credential or permission refused by a node: waiting will not change it. */
const PERMANENT_NODE_ERROR = /^(WRONGPASS|NOAUTH|NOPERM|ERR invalid password)/;

/** Per-client counters of a Cluster client, as reported by `RedisClusterClientsService.stats()`. */
export interface RedisClusterClientStats {
  name: string;
  role: RedisClusterClientRole;
  status: string;
  /** Nodes the client is connected (or connecting) to. */
  nodes: number;
  /** Masters in the client's slot map. */
  masters: number;
  /** Times the client lost every node and connected again. */
  reconnects: number;
  readyCount: number;
  /** Slot owner changes seen (a failover or a resharding moves slots to another master). */
  failoversSeen: number;
  /**
   * The slot owner changes that were promotions: a node that served no slot took over from one
   * that serves none now (a failover, manual or not; not a resharding).
   */
  promotionsSeen: number;
  lastError: string | undefined;
}

const managedByCluster = new WeakMap<Cluster, ManagedRedisCluster>();

/** Makes the managed copy that `cluster.duplicate(startupNodes, override)` returns (see `RedisClusterClientsService`). */
export type DuplicateCluster = (
  parent: ManagedRedisCluster,
  startupNodes: readonly unknown[],
  override: Partial<ClusterOptions>,
) => Cluster;

/** The module's wrapper of an ioredis `Cluster`, if the client belongs to a Cluster module. */
export function managedClusterOf(cluster: Cluster): ManagedRedisCluster | undefined {
  return managedByCluster.get(cluster);
}

/**
 * One named ioredis `Cluster` plus what makes it follow failovers fast without resending a
 * command that may have been applied:
 * - `retryDelayOnFailover: 0` and `autoResendUnfulfilledCommands: false`: a command in flight on
 *   a connection that closed goes back to the caller with "Connection is closed.", never resent;
 * - redirects (`MOVED`, `ASK`), `TRYAGAIN` and `CLUSTERDOWN` are still retried by ioredis: such a
 *   command was refused, not applied; `commandTimeoutMs` bounds the whole command (set once, when
 *   the command enters the client, so retries and the offline queue are within it);
 * - on any sign of a failing node (a node error, a node leaving the pool, a command that timed
 *   out, was lost, or met `CLUSTERDOWN`) the slot map is reloaded every `failoverRefreshIntervalMs`
 *   until its owners change, for at most 10 s after the last sign; `slotsRefreshIntervalMs` is the
 *   safety net.
 */
export class ManagedRedisCluster {
  readonly cluster: Cluster;
  private closing = false;
  private reconnects = 0;
  private readyCount = 0;
  private failoversSeen = 0;
  private promotionsSeen = 0;
  private lastError: string | undefined;
  /** Slot → master as seen at the last refresh (empty before the first). */
  private owners: Array<string | undefined> = [];
  /**
   * When each master last served slots in this client's map (Date.now()). While the cluster
   * converges after a failover, one node may still answer the old map: the slots flip back to the
   * old master and forth again. A node that served slots within FAST_WINDOW_MS is not "promoted"
   * when it gets them back, so one failover counts once (and is timed once).
   */
  private readonly lastServed = new Map<string, number>();
  private fastUntil = 0;
  /**
   * When (performance.now()) the client saw the first sign of a failing node since its slot owners
   * last changed or its fast refresh last gave up: the start of the outage it reports with the next
   * owner change (`failingForMs`).
   */
  private failingSince: number | undefined;
  private fastLoop: Promise<void> | undefined;
  private siblingRefresh: Promise<unknown> | undefined;
  private readonly stopLoops = new AbortController();
  /** Deadline of each command: `commandTimeoutMs`, none on a copy (a block waits longer on purpose). */
  private readonly commandTimeoutMs: number | undefined;
  /** Set while `connect()` waits: ends the wait early with this error. */
  private endStartupWait: ((error: Error) => void) | undefined;
  readonly #options: ResolvedRedisClusterOptions;

  constructor(
    readonly definition: ResolvedClusterClientDefinition,
    options: ResolvedRedisClusterOptions,
    private readonly events: RedisClusterEvents,
    private readonly logger: Logger,
    private readonly errors: RateLimitedLogger,
    duplicate: DuplicateCluster,
    /** The module's durable-write outcomes (counted by `durable-write.ts`). */
    readonly durableWrites: DurableWriteCounts = { confirmed: 0, unconfirmed: 0, refused: 0 },
  ) {
    this.#options = options;
    const clusterOptions = this.clusterOptions();
    this.commandTimeoutMs = clusterOptions.redisOptions?.commandTimeout;
    this.cluster = new Cluster(
      options.nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
    // ioredis's own duplicate() makes a plain Cluster with this client's options: its retry
    // strategy steers this client's counters, and nothing refreshes its slots fast, resends
    // nothing or closes it at shutdown. BullMQ and Socket.IO duplicate the client they are given.
    this.cluster.duplicate = ((startupNodes?: readonly unknown[], override?: Partial<ClusterOptions>) =>
      duplicate(this, startupNodes ?? [], override ?? {})) as Cluster['duplicate'];
    managedByCluster.set(this.cluster, this);
    interceptCommands(
      this.cluster,
      (command) => {
        // The deadline starts when the command enters the client: it covers the offline queue,
        // redirects and CLUSTERDOWN retries (ioredis arms it once per command).
        if (this.commandTimeoutMs !== undefined) command.setTimeout(this.commandTimeoutMs);
        command.promise.catch((err: unknown) => {
          if (err instanceof Error && FAILING_NODE_ERROR.test(err.message)) this.failingNode();
        });
      },
      (command) => this.retryClusterDownBySlot(command),
    );
    this.cluster.on('error', (error: Error) => this.onError(error));
    this.cluster.on('node error', (error: Error, node: string | undefined) => this.onNodeError(error, node));
    this.cluster.on('-node', () => this.failingNode());
    this.cluster.on('refresh', () => this.noteOwners());
    this.cluster.on('ready', () => this.onReady());
  }

  get name(): string {
    return this.definition.name;
  }

  get role(): RedisClusterClientRole {
    return this.definition.role;
  }

  stats(): RedisClusterClientStats {
    const status = this.cluster.status;
    const live = status !== 'end' && status !== 'wait';
    return {
      name: this.name,
      role: this.role,
      status,
      nodes: live ? this.cluster.nodes('all').length : 0,
      masters: live ? this.cluster.nodes('master').length : 0,
      reconnects: this.reconnects,
      readyCount: this.readyCount,
      failoversSeen: this.failoversSeen,
      promotionsSeen: this.promotionsSeen,
      lastError: this.lastError,
    };
  }

  /** What `JSON.stringify` shows: the counters (the ioredis client's options hold the password). */
  toJSON(): RedisClusterClientStats {
    return this.stats();
  }

  /** What `util.inspect` / `console.log` show: the counters, as `toJSON()`. */
  [inspect.custom](): string {
    return `ManagedRedisCluster ${inspect(this.stats())}`;
  }

  private clusterOptions(): ClusterOptions {
    const o = this.#options;
    const moduleWide = o.ioredis;
    const own = this.definition.ioredis;
    return {
      lazyConnect: true,
      enableReadyCheck: true,
      enableOfflineQueue: true,
      scaleReads: this.role === 'replica' ? 'slave' : 'master',
      // A command lost with its connection may have been applied: back to the caller, never resent.
      retryDelayOnFailover: 0,
      // Refused, never applied: retried by slot within commandTimeoutMs (retryClusterDownBySlot).
      // During an election the whole cluster answers CLUSTERDOWN (cluster-require-full-coverage),
      // the healthy shards too. This applies to pipelines only (ioredis retries them itself).
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      retryDelayOnMoved: 0,
      // The deadline (commandTimeoutMs) bounds the retries, not a redirect count.
      maxRedirections: 64,
      slotsRefreshInterval: o.slotsRefreshIntervalMs,
      slotsRefreshTimeout: o.slotsRefreshTimeoutMs,
      ...(o.natMap ? { natMap: clusterNatMap(o.natMap) } : {}),
      clusterRetryStrategy: (attempt) => this.retryDelay(attempt),
      ...moduleWide,
      ...own,
      redisOptions: {
        ...moduleWide.redisOptions,
        ...own.redisOptions,
        username: o.username,
        password: o.password,
        ...(o.tls ? { tls: { ...o.tls } } : {}),
        connectTimeout: o.connectTimeoutMs,
        commandTimeout: o.commandTimeoutMs,
        socketTimeout: o.socketTimeoutMs,
        keepAlive: o.keepAliveMs,
        maxRetriesPerRequest: o.maxRetriesPerRequest,
        autoResendUnfulfilledCommands: false,
        connectionName: `bastion:${this.name}`,
        // A socket closed by us (a node gone from the slot map, shutdown) is destroyed after this
        // if the peer does not answer the FIN: a frozen old master's connection lets go of the
        // commands stuck on it 50 ms after the slot map drops it (ioredis waits 2 s), and no timer
        // is left behind. A live node answers a FIN (and the replies before it) well within it.
        disconnectTimeout: 50,
        ...this.definition.redisOptionsOverride,
      },
    };
  }

  /**
   * `CLUSTERDOWN` (refused, not applied) is retried here, routed by the command's slot, every
   * `CLUSTERDOWN_RETRY_MS` until the command's deadline. ioredis would retry it on a random node,
   * which may be a dead master's connection: a healthy shard's command would then fail with
   * "Connection is closed." while the cluster elects a new master for another shard.
   */
  private retryClusterDownBySlot(command: Command): void {
    const handle = command.reject;
    // A copy's command has no deadline of its own: CLUSTERDOWN (an election) is still retried for
    // commandTimeoutMs only, then its caller sees it (BullMQ retries its block itself).
    const deadline = Date.now() + (this.commandTimeoutMs ?? this.#options.commandTimeoutMs);
    command.reject = (err: Error) => {
      if (
        !this.closing &&
        err.message.startsWith('CLUSTERDOWN') &&
        Date.now() + CLUSTERDOWN_RETRY_MS < deadline
      ) {
        this.failingNode();
        setTimeout(() => {
          if (!command.isSettled) resendCommand(this.cluster, command);
        }, CLUSTERDOWN_RETRY_MS);
        return;
      }
      handle.call(command, err);
    };
  }

  private retryDelay(attempt: number): number | null {
    if (this.closing) return null;
    this.reconnects++;
    const delayMs = cappedBackoff(attempt, 50, this.#options.reconnectMaxDelayMs, 100);
    this.events.emit('reconnecting', { client: this.name, attempt, delayMs });
    return delayMs;
  }

  /**
   * Starts connecting and resolves when ready. Rejects with `RedisSentinelStartupError` after
   * `timeoutMs`, or at once when a node refused the credential.
   */
  async connect(timeoutMs: number): Promise<void> {
    if (this.cluster.status === 'wait') this.cluster.connect().catch(() => undefined);
    if (this.cluster.status === 'ready' || timeoutMs === 0) return;
    let onReady: (() => void) | undefined;
    try {
      await withDeadline(
        new Promise<void>((resolve, reject) => {
          onReady = resolve;
          this.endStartupWait = reject;
          this.cluster.once('ready', resolve);
        }),
        timeoutMs,
        'startup deadline',
      ).catch((err: unknown) => {
        if (!(err instanceof DeadlineExceededError)) throw err;
        const last = this.lastError ? `; last error: ${this.lastError}` : '';
        const seeds = this.#options.nodes.map((n) => `${n.host}:${n.port}`).join(', ');
        throw new RedisSentinelStartupError(
          [
            `Redis Cluster client "${this.name}" not ready within ${timeoutMs} ms (status ${this.cluster.status}, seed nodes ${seeds})${last}`,
          ],
          false,
        );
      });
    } finally {
      if (onReady) this.cluster.off('ready', onReady);
      this.endStartupWait = undefined;
    }
  }

  /** `QUIT` on every node raced against `deadlineMs`, then every socket is destroyed. */
  async close(deadlineMs: number): Promise<void> {
    this.endStartupWait?.(
      new RedisSentinelStartupError([`Redis Cluster client "${this.name}" closed during startup`], false),
    );
    this.closing = true;
    this.stopLoops.abort();
    const status = this.cluster.status;
    if (status === 'end') return;
    const nodes: Redis[] = status === 'wait' ? [] : this.cluster.nodes('all');
    if (status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      let onEnd: (() => void) | undefined;
      // Until 'end', not only QUIT's replies: a disconnect() while the answered nodes are still
      // closing would empty the pool twice, and ioredis would leave the client in 'close'.
      await Promise.race([
        Promise.all([
          this.cluster.quit().catch(() => undefined),
          new Promise<void>((resolve) => {
            onEnd = resolve;
            this.cluster.once('end', resolve);
          }),
        ]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadlineMs);
        }),
      ]);
      clearTimeout(timer);
      if (onEnd) this.cluster.off('end', onEnd);
    }
    if ((this.cluster.status as string) !== 'end') this.cluster.disconnect();
    for (const node of nodes) abandonConnection(node);
    await Promise.all([this.fastLoop, this.siblingRefresh]);
  }

  /**
   * Another client of the module (`sibling`) saw slots move to the master `to`: reload this
   * client's slot map once, from `to` (asking a random node might meet the frozen old master and
   * wait out its deadline). A copy blocked on a frozen master sees no error of its own (no command
   * deadline): this drops that node as soon as one client of the module has seen the promotion.
   * A client whose map changes announces it in turn; one whose map is current announces nothing.
   */
  siblingMoved(sibling: Cluster, to: string): void {
    if (this.closing || this.cluster.status !== 'ready' || this.siblingRefresh) return;
    const node = nodeConnection(this.cluster, to) ?? nodeConnection(sibling, to);
    this.siblingRefresh = (node ? refreshSlotsFrom(this.cluster, node) : refreshSlots(this.cluster)).finally(
      () => (this.siblingRefresh = undefined),
    );
  }

  private onReady(): void {
    this.readyCount++;
    this.noteOwners();
    const nodes = this.cluster.nodes('all').length;
    this.logger.log({
      message: `Redis Cluster client "${this.name}" ready (${this.role}), ${this.cluster.nodes('master').length} masters, ${nodes} nodes`,
      event: 'ready',
      client: this.name,
      role: this.role,
      nodes,
    });
    this.events.emit('ready', { client: this.name, role: this.role, nodes });
  }

  private onError(error: Error): void {
    this.lastError = error.message;
    redactCommandArguments(error);
    this.errors.error(`${this.name}:${error.name}:${error.message.slice(0, 40)}`, {
      message: `Redis Cluster client "${this.name}": ${error.message}`,
      event: 'error',
      client: this.name,
      error: error.message,
    });
    this.events.emit('error', { client: this.name, error });
  }

  private onNodeError(error: Error, node: string | undefined): void {
    this.lastError = node ? `${node}: ${error.message}` : error.message;
    redactCommandArguments(error);
    if (this.endStartupWait && PERMANENT_NODE_ERROR.test(error.message)) {
      const what = this.#options.username ? 'username/password' : 'password';
      this.endStartupWait(
        new RedisSentinelStartupError(
          [`Redis Cluster node ${node ?? '(unknown)'} refused the ${what} (${error.message}): check ${what}`],
          true,
        ),
      );
    }
    this.errors.warn(`${this.name}:node:${node}:${error.message.slice(0, 40)}`, {
      message: `Redis Cluster client "${this.name}": node ${node ?? '(unknown)'}: ${error.message}`,
      event: 'node-error',
      client: this.name,
      node,
      error: error.message,
    });
    this.events.emit('node-error', { client: this.name, node, error });
    this.failingNode();
  }

  /** A node may be failing: reload the slot map fast until its owners change (bounded in time). */
  private failingNode(): void {
    if (this.closing || this.cluster.status !== 'ready') return;
    this.failingSince ??= performance.now();
    this.fastUntil = Date.now() + FAST_WINDOW_MS;
    this.fastLoop ??= this.runFastRefresh().finally(() => (this.fastLoop = undefined));
  }

  private async runFastRefresh(): Promise<void> {
    const o = this.#options;
    const signal = this.stopLoops.signal;
    // A refresh asks the known nodes one after the other, each within slotsRefreshTimeout. The
    // failing node is often still among them (a frozen master stays in the pool until the map
    // drops it): meanwhile each node gets a shorter deadline, so meeting it costs one short wait.
    const loopStarted = this.failoversSeen;
    const fastTimeout = Math.min(
      o.slotsRefreshTimeoutMs,
      Math.max(FAST_REFRESH_TIMEOUT_MS, 4 * o.failoverRefreshIntervalMs),
    );
    this.cluster.options.slotsRefreshTimeout = fastTimeout;
    // ioredis's own refresh asks the nodes in a random order each time, so a frozen node would
    // cost its deadline again and again; here each node is asked in turn, and one that failed is
    // skipped for the rest of the loop (unless every node failed).
    const failed = new Set<Redis>();
    let turn = 0;
    try {
      while (!signal.aborted && Date.now() < this.fastUntil && this.cluster.status === 'ready') {
        let nodes = this.cluster.nodes('all').filter((n) => !failed.has(n));
        if (nodes.length === 0) {
          failed.clear();
          nodes = this.cluster.nodes('all');
        }
        const node = nodes[turn++ % Math.max(1, nodes.length)];
        if (node) {
          // Past this the loop goes on; a late answer still updates the map.
          const error = await withDeadline(
            refreshSlotsFrom(this.cluster, node),
            fastTimeout + o.failoverRefreshIntervalMs,
            'slot refresh',
          ).catch((err: unknown) => err as Error);
          if (error) failed.add(node);
          else this.noteOwners();
        }
        if (this.ownerChangeSeenSince(loopStarted)) {
          this.fastUntil = 0;
          return;
        }
        await sleep(o.failoverRefreshIntervalMs, signal);
      }
    } finally {
      this.cluster.options.slotsRefreshTimeout = o.slotsRefreshTimeoutMs;
      this.failingSince = undefined;
    }
  }

  private ownerChangeSeenSince(count: number): boolean {
    return this.failoversSeen !== count;
  }

  /** Compares the slot map with the last one: counts and announces every slot owner change. */
  private noteOwners(): void {
    const now = slotMasters(this.cluster);
    const before = this.owners;
    this.owners = now;
    if (before.length === 0) return;
    const moves = new Map<string, { from: string | undefined; to: string; slots: number }>();
    for (let slot = 0; slot < now.length; slot++) {
      const to = now[slot];
      const from = before[slot];
      if (to === undefined || to === from) continue;
      const key = `${from} ${to}`;
      const move = moves.get(key) ?? { from, to, slots: 0 };
      move.slots++;
      moves.set(key, move);
    }
    const failingForMs =
      moves.size > 0 && this.failingSince !== undefined ? performance.now() - this.failingSince : undefined;
    if (moves.size > 0) this.failingSince = undefined;
    const ownersBefore = new Set(before);
    const ownersNow = new Set(now);
    const at = Date.now();
    for (const owner of ownersBefore) if (owner !== undefined) this.lastServed.set(owner, at);
    const servedLately = (node: string): boolean =>
      at - (this.lastServed.get(node) ?? -Infinity) < FAST_WINDOW_MS;
    for (const { from, to, slots } of moves.values()) {
      // A node that served no slot took over from one that serves none now: a replica promoted
      // (failover, manual or not). Slots moved between serving masters are a resharding; slots
      // handed back to a master that served them moments ago are a stale map, not a new promotion.
      const promotion =
        !ownersBefore.has(to) && !servedLately(to) && (from === undefined || !ownersNow.has(from));
      const move = { from, to, slots, promotion };
      this.failoversSeen++;
      if (promotion) this.promotionsSeen++;
      this.logger.log({
        message: `Redis Cluster client "${this.name}": ${slots} slot(s) moved from ${from ?? 'no master'} to ${to}${promotion ? ' (promoted)' : ''}`,
        event: 'slot-owner-change',
        client: this.name,
        ...move,
      });
      this.events.emit('slot-owner-change', { client: this.name, ...move, failingForMs });
    }
  }
}

/** ioredis's natMap function must answer `null` (not `undefined`) for an address it does not map. */
function clusterNatMap(natMap: RedisNatMap): NatMap {
  return typeof natMap === 'function' ? (address: string) => natMap(address) ?? null : natMap;
}
