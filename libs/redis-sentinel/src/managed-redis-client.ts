import { inspect } from 'node:util';
import type { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { redactCommandArguments } from './command-argument-redaction.js';
import { mayResend } from './command-resend-policy.js';
import { toIoredisOptions } from './ioredis-options.mapping.js';
import { cappedBackoff, DeadlineExceededError, withDeadline } from './timing.js';
import { closeRedisBounded } from './bounded-close.js';
import type { FailoverWatcher, SwitchMaster } from './failover-watcher.js';
import {
  abandonConnection,
  flushCommands,
  reconnectNow,
  takeUnfulfilledCommands,
} from './ioredis-internals.js';
import { formatAddress, sameAddress, type RedisAddress } from './redis-address.js';
import {
  RedisConnectionLostError,
  RedisSentinelStartupError,
  RedisSentinelUnavailableError,
} from './redis-sentinel.errors.js';
import type { RedisSentinelEvents } from './redis-sentinel.events.js';
import type { RedisClientRole } from './redis-sentinel-options.interface.js';
import type {
  ResolvedClientDefinition,
  ResolvedRedisSentinelOptions,
} from './redis-sentinel-options.resolver.js';
import type { RateLimitedLogger } from './rate-limited-logger.js';
import { ReplicaRecheck } from './replica-recheck.js';
import { SentinelMasterConnector, type SentinelConnectorContext } from './sentinel-master.connector.js';
import { dataNodeAuthProblem, sentinelRoundProblems, type SentinelAnswer } from './startup-problems.js';

/** Reconnect delays right after a failover: the new master is known, so retry almost at once. */
const FAST_DELAYS_MS = [0, 10, 20, 50, 100, 100, 200, 200, 500];
/** How long after `+switch-master` reconnects stay fast and the announced address is preferred. */
const SWITCH_WINDOW_MS = 10_000;
/** Dials of the announced address that may fail the role check before asking the Sentinels again. */
const MAX_HINT_FAILURES = 3;

/** Per-client counters, as reported by `RedisClientsService.stats()`. */
export interface RedisClientStats {
  name: string;
  role: RedisClientRole;
  status: string;
  /** Address of the node the client is (or was last) connected to. */
  address: string | undefined;
  /** `true` for a replica client that currently reads from the master. */
  servingFromMaster: boolean;
  reconnects: number;
  readyCount: number;
  lastError: string | undefined;
}

/** Outcomes of `durableWrite` / `durableCall` / `durableEnqueue`, shared by a module's clients. */
export interface DurableWriteCounts {
  /** Enough replicas acknowledged, on the same connection, with no failover in between. */
  confirmed: number;
  /** Written (maybe), but replication not confirmed: `DurableWriteError` after the write. */
  unconfirmed: number;
  /** Refused before writing: a failover in progress, or not every Sentinel heard. */
  refused: number;
}

const managedByRedis = new WeakMap<Redis, ManagedRedisClient>();

/** Makes the managed copy that `redis.duplicate(override)` returns (see `RedisClientsService`). */
export type DuplicateClient = (parent: ManagedRedisClient, override: Partial<RedisOptions>) => Redis;

/** The module's wrapper of an ioredis client, if the client belongs to this module. */
export function managedClientOf(redis: Redis): ManagedRedisClient | undefined {
  return managedByRedis.get(redis);
}

/** One named ioredis client plus what makes it follow a failover. */
export class ManagedRedisClient {
  readonly redis: Redis;
  private connector: SentinelMasterConnector | undefined;
  private dialled: RedisAddress | undefined;
  private dialledViaHint = false;
  private fastUntil = 0;
  private hintFailures = 0;
  private roleUnknown = false;
  private readySinceDial = false;
  private serverRole: string | undefined;
  private readonly replicaRecheck: ReplicaRecheck;
  private closing = false;
  private reconnects = 0;
  private readyCount = 0;
  private lastError: string | undefined;
  /** The last round in which no Sentinel named a node; cleared once one does. */
  private failedRound: readonly SentinelAnswer[] | undefined;
  /** The last error of the node dialled last (not a Sentinel round's): for the startup error. */
  private nodeError: string | undefined;
  /** Set while `connect()` waits: ends the wait early with this error. */
  private endStartupWait: ((error: Error) => void) | undefined;
  /** `#private`: the options hold the passwords, and `util.inspect` never shows this field. */
  readonly #options: ResolvedRedisSentinelOptions;

  constructor(
    readonly definition: ResolvedClientDefinition,
    options: ResolvedRedisSentinelOptions,
    private readonly watcher: FailoverWatcher | undefined,
    private readonly events: RedisSentinelEvents,
    private readonly logger: Logger,
    private readonly errors: RateLimitedLogger,
    duplicate: DuplicateClient,
    /** The module's durable-write outcomes (counted by `durable-write.ts`). */
    readonly durableWrites: DurableWriteCounts = { confirmed: 0, unconfirmed: 0, refused: 0 },
  ) {
    this.#options = options;
    this.redis = new Redis(this.ioredisOptions());
    // ioredis's own duplicate() copies the options, and with them the Connector bound to THIS
    // client: the copy would steer this client's failover state. BullMQ and Socket.IO duplicate
    // the client they are given, so a copy must be a managed client of its own.
    this.redis.duplicate = (override?: Partial<RedisOptions>) => duplicate(this, override ?? {});
    // ioredis's connect() rejects when the FIRST dial fails (a master not accepting yet), while the
    // client goes on reconnecting. BullMQ calls connect() on a client that waits and keeps that
    // rejection for good: its queue never works again. A caller that starts the connection gets a
    // promise that settles when the client is ready, or rejects when it ends (closed).
    const connect = this.redis.connect.bind(this.redis);
    this.redis.connect = (): Promise<void> => {
      if (this.redis.status !== 'wait') return connect();
      connect().catch(() => undefined);
      return this.readyOrEnd();
    };
    this.replicaRecheck = new ReplicaRecheck(
      definition.name,
      this.redis,
      options,
      logger,
      () => this.servingFromMaster,
    );
    managedByRedis.set(this.redis, this);
    this.redis.on('error', (error: Error) => this.onError(error));
    this.redis.on('close', () => this.onClose());
    this.redis.on('ready', () => this.onReady());
    watcher?.onSwitch(this.switchListener);
    // A client that ended (quit by its user, e.g. a closed BullMQ worker) stops following
    // failovers, so the watcher does not keep it alive; connecting it again resumes that.
    this.redis.on('end', () => {
      watcher?.offSwitch(this.switchListener);
      this.stopReplicaRecheck();
    });
    this.redis.on('connect', () => watcher?.onSwitch(this.switchListener));
  }

  private readonly switchListener = (change: SwitchMaster): void => this.onSwitchMaster(change);

  private readyOrEnd(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        this.redis.off('end', onEnd);
        resolve();
      };
      const onEnd = (): void => {
        this.redis.off('ready', onReady);
        reject(new Error('Connection is closed.'));
      };
      this.redis.once('ready', onReady);
      this.redis.once('end', onEnd);
    });
  }

  get name(): string {
    return this.definition.name;
  }

  get role(): RedisClientRole {
    return this.definition.role;
  }

  /** The node the client dialled last (natMap applied). */
  get address(): RedisAddress | undefined {
    return this.dialled;
  }

  /** Failover state for `durableWrite` (always calm and watched in standalone mode). */
  get failover(): { inProgress: boolean; generation: number; watched: boolean } {
    return {
      inProgress: this.watcher?.failoverInProgress ?? false,
      generation: this.watcher?.generation ?? 0,
      watched: this.watcher?.watching ?? true,
    };
  }

  get servingFromMaster(): boolean {
    return this.connector?.servingFromMaster ?? false;
  }

  stats(): RedisClientStats {
    return {
      name: this.name,
      role: this.role,
      status: this.redis.status,
      address: formatAddress(this.dialled),
      servingFromMaster: this.servingFromMaster,
      reconnects: this.reconnects,
      readyCount: this.readyCount,
      lastError: this.lastError,
    };
  }

  /** What `JSON.stringify` shows: the counters (the ioredis client's options hold the password). */
  toJSON(): RedisClientStats {
    return this.stats();
  }

  /** What `util.inspect` / `console.log` show: the counters, as `toJSON()`. */
  [inspect.custom](): string {
    return `ManagedRedisClient ${inspect(this.stats())}`;
  }

  /**
   * Starts connecting and resolves when ready. Rejects with `RedisSentinelStartupError` after
   * `timeoutMs`, or at once when the servers gave a permanent answer (see `startup-problems.ts`).
   */
  async connect(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'wait') this.redis.connect().catch(() => undefined);
    if (this.redis.status === 'ready' || timeoutMs === 0) return;
    let onReady: (() => void) | undefined;
    try {
      await withDeadline(
        new Promise<void>((resolve, reject) => {
          onReady = resolve;
          this.endStartupWait = reject;
          this.redis.once('ready', resolve);
        }),
        timeoutMs,
        'startup deadline',
      ).catch((err: unknown) => {
        throw err instanceof DeadlineExceededError ? this.notReadyError(timeoutMs) : err;
      });
    } finally {
      if (onReady) this.redis.off('ready', onReady);
      this.endStartupWait = undefined;
    }
  }

  /** Flat lines: the timeout, then what the Sentinels or the node last answered. */
  private notReadyError(timeoutMs: number): RedisSentinelStartupError {
    const head = `Redis client "${this.name}" not ready within ${timeoutMs} ms (status ${this.redis.status})`;
    if (this.failedRound) {
      const { problems } = sentinelRoundProblems(this.failedRound, this.#options);
      return new RedisSentinelStartupError(
        [`${head}: no Sentinel named the master "${this.#options.masterName}"`, ...problems],
        false,
      );
    }
    const address = formatAddress(this.dialled ?? this.#options.standalone);
    const last = this.nodeError ? `; last error: ${address ? `${address}: ` : ''}${this.nodeError}` : '';
    return new RedisSentinelStartupError([`${head}${last}`], false);
  }

  async close(deadlineMs: number): Promise<void> {
    // A startup wait still running (another client failed) ends now, with its deadline timer.
    this.endStartupWait?.(
      new RedisSentinelStartupError([`Redis client "${this.name}" closed during startup`], false),
    );
    this.closing = true;
    this.stopReplicaRecheck();
    await closeRedisBounded(this.redis, deadlineMs);
  }

  private ioredisOptions(): RedisOptions {
    const o = this.#options;
    const context: SentinelConnectorContext = {
      options: o,
      wantsReplica: this.role === 'replica',
      switchHint: () => this.switchHint(),
      sentinelRetryDelay: (round) => cappedBackoff(round, 100, o.sentinelRetryMaxDelayMs, 100),
      onDial: (address, _expected, viaHint) => {
        this.failedRound = undefined;
        this.nodeError = undefined;
        this.dialled = address;
        this.dialledViaHint = viaHint;
        this.readySinceDial = false;
      },
      onRoleChecked: (serverRole, expected) => this.onRoleChecked(serverRole, expected),
      onSentinelRoundFailed: (answers) => {
        this.failedRound = answers;
        const round = sentinelRoundProblems(answers, o);
        // Every Sentinel answered, and no answer will change by waiting: fail the startup now.
        if (round.permanent) this.endStartupWait?.(new RedisSentinelStartupError(round.problems, true));
      },
    };
    const register = (connector: SentinelMasterConnector): void => {
      this.connector = connector;
    };
    // ioredis constructs the connector itself; this class binds it to this client.
    const Connector =
      o.mode === 'sentinel'
        ? class extends SentinelMasterConnector {
            constructor() {
              super(context);
              register(this);
            }
          }
        : undefined;
    return toIoredisOptions(o, this.definition, {
      Connector,
      retryStrategy: (attempt) => this.retryDelay(attempt),
    });
  }

  private switchHint(): RedisAddress | undefined {
    if (this.hintFailures >= MAX_HINT_FAILURES) return undefined;
    return this.watcher?.recentSwitch(SWITCH_WINDOW_MS)?.to;
  }

  private retryDelay(attempt: number): number | null {
    if (this.closing) return null;
    this.reconnects++;
    if (this.dialledViaHint && !this.readySinceDial) this.hintFailures++;
    const delayMs =
      Date.now() < this.fastUntil
        ? FAST_DELAYS_MS[Math.min(attempt - 1, FAST_DELAYS_MS.length - 1)]!
        : cappedBackoff(attempt, 50, this.#options.reconnectMaxDelayMs, 100);
    this.events.emit('reconnecting', { client: this.name, attempt, delayMs });
    return delayMs;
  }

  private onRoleChecked(serverRole: string | undefined, expected: 'master' | 'slave'): void {
    this.roleUnknown = serverRole === undefined;
    this.serverRole = serverRole;
    if (serverRole !== undefined && serverRole !== expected) {
      // E.g. a just-promoted replica that still reports `slave`, or a stale Sentinel: retry fast.
      this.fastUntil = Math.max(this.fastUntil, Date.now() + 5000);
      this.errors.error(`${this.name}:role`, {
        message: `Redis client "${this.name}": ${formatAddress(this.dialled)} is ${serverRole}, expected ${expected}; reconnecting`,
        event: 'role-mismatch',
        client: this.name,
        address: formatAddress(this.dialled),
        expected,
        actual: serverRole,
      });
    }
  }

  private onReady(): void {
    this.readyCount++;
    this.hintFailures = 0;
    this.readySinceDial = true;
    if (this.servingFromMaster) this.startReplicaRecheck();
    else this.stopReplicaRecheck();
    if (this.roleUnknown && this.connector) {
      // INFO was denied (ACL without +info): verify with ROLE before announcing the client ready.
      void this.probeRole(this.servingFromMaster || this.role !== 'replica' ? 'master' : 'slave');
    } else {
      this.announceReady();
    }
  }

  private announceReady(): void {
    const serverRole = this.serverRole;
    if (this.dialled && serverRole === 'master') this.watcher?.noteMaster(this.dialled);
    this.logger.log({
      message: `Redis client "${this.name}" ready (${this.role}) on ${serverRole} ${formatAddress(this.dialled ?? this.#options.standalone)}`,
      event: 'ready',
      client: this.name,
      role: this.role,
      serverRole,
      address: formatAddress(this.dialled ?? this.#options.standalone),
      ...(this.servingFromMaster ? { servingFromMaster: true } : {}),
    });
    this.events.emit('ready', {
      client: this.name,
      role: this.role,
      serverRole,
      address: this.dialled ?? this.#options.standalone,
    });
  }

  private async probeRole(expected: 'master' | 'slave'): Promise<void> {
    try {
      const reply = (await this.redis.call('ROLE')) as unknown[];
      const actual = String(reply[0]);
      this.onRoleChecked(actual, expected);
      if (actual !== expected) abandonConnection(this.redis);
      else this.announceReady();
    } catch (err) {
      this.onError(new Error(`ROLE check failed: ${(err as Error).message}`));
    }
  }

  private onError(error: Error): void {
    this.lastError = error.message;
    if (error instanceof RedisSentinelUnavailableError) {
      // Nobody knows where the master is: fail queued commands now instead of letting them wait.
      flushCommands(this.redis, error, true);
    } else {
      this.nodeError = error.message;
      // The node itself refused the credential: retrying with the same one cannot succeed.
      const refused = this.endStartupWait && dataNodeAuthProblem(error, this.dialled, this.#options);
      if (refused) this.endStartupWait?.(new RedisSentinelStartupError([refused], true));
    }
    this.errors.error(`${this.name}:${error.name}:${error.message.slice(0, 40)}`, {
      message: `Redis client "${this.name}": ${error.message}`,
      event: 'error',
      client: this.name,
      address: formatAddress(this.dialled),
      error: error.message,
    });
    redactCommandArguments(error);
    this.events.emit('error', { client: this.name, error });
  }

  private onClose(): void {
    if (this.redis.options.autoResendUnfulfilledCommands) return;
    const address = formatAddress(this.dialled);
    for (const item of takeUnfulfilledCommands(this.redis)) {
      // A read goes to the next connection (queued offline until it is ready, within its own
      // deadline): a blocking XREAD or a GET survives a failover. A write is never resent.
      if (mayResend(item.command)) this.redis.sendCommand(item.command);
      else item.command.reject(new RedisConnectionLostError(this.name, item.command.name, address));
    }
  }

  private onSwitchMaster(change: SwitchMaster): void {
    if (this.closing) return;
    this.fastUntil = Date.now() + SWITCH_WINDOW_MS;
    this.hintFailures = 0;
    const status = this.redis.status;
    if (this.role === 'replica') {
      // Still fine on a replica that was not promoted; move if on the old master or the promoted node.
      if (!this.servingFromMaster && !sameAddress(this.dialled, change.to)) return;
    } else if (sameAddress(this.dialled, change.to) && (status === 'ready' || status === 'connect')) {
      return;
    }
    if (status === 'ready' || status === 'connect' || status === 'connecting') {
      this.connector?.interrupt();
      abandonConnection(this.redis);
    } else if (status === 'reconnecting') {
      reconnectNow(this.redis);
    }
  }

  private startReplicaRecheck(): void {
    if (!this.closing) this.replicaRecheck.start();
  }

  private stopReplicaRecheck(): void {
    this.replicaRecheck.stop();
  }
}
