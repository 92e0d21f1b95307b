import type { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { cappedBackoff, withDeadline } from './timing.js';
import { closeRedisBounded } from './bounded-close.js';
import { formatAddress, sameAddress, type RedisAddress } from './redis-address.js';
import type { RedisSentinelEvents } from './redis-sentinel.events.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import type { RateLimitedLogger } from './rate-limited-logger.js';
import { applyNatMap, askMasterAddress, sentinelConnectionOptions } from './sentinel-query.js';

/** Backoff cap of a watcher connection's reconnects: see `retryStrategy` in `start()`. */
const WATCHER_RETRY_MAX_DELAY_MS = 250;
/**
 * How often each watcher connection is PINGed. A connection whose Sentinel went silent (frozen,
 * or packets dropped: TCP notices neither) is not live after `WATCHER_LIVE_MS` without an answer,
 * and is dropped and redialled after `WATCHER_SOCKET_TIMEOUT_MS`.
 */
const WATCHER_PING_MS = 1000;
const WATCHER_LIVE_MS = 3 * WATCHER_PING_MS;
const WATCHER_SOCKET_TIMEOUT_MS = 3 * WATCHER_PING_MS;
/** How often `whenWatching()` looks: subscriptions to a reachable Sentinel take a few ms. */
const WATCHING_POLL_MS = 10;
export interface SwitchMaster {
  from: RedisAddress | undefined;
  to: RedisAddress;
  at: number;
}

const CHANNEL = '+switch-master';
/** Sentinel failover progress events (`+try-failover`, `+failover-end`, `-failover-abort-*`, ...). */
const FAILOVER_PATTERN = '*failover*';
/** A failover that announced neither its end nor an abort is considered over after this long. */
const FAILOVER_STALE_MS = 30_000;

/**
 * Subscribes to `+switch-master` on every Sentinel (one long-lived connection each) and tells
 * the clients at once. The announcement comes from the Sentinel that led the failover, before
 * the others have caught up, so the clients dial the announced address directly.
 *
 * Safety net for a missed announcement (pub/sub blocked, connection blip): every
 * `topologyCheckIntervalMs` it asks every Sentinel for the master; another master named by a
 * majority of the configured Sentinels in two polls in a row counts as a switch.
 */
export class FailoverWatcher {
  private readonly subscribers: Redis[] = [];
  /** When each watcher connection last answered (a PING, a subscription, a message). */
  private readonly lastHeard = new Map<Redis, number>();
  /** Connections whose last attempt was refused: that Sentinel is not running. */
  private readonly refused = new Set<Redis>();
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(change: SwitchMaster) => void>();
  private lastAnnounced: string | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private candidate: RedisAddress | undefined;
  private latest: SwitchMaster | undefined;
  private knownMaster: RedisAddress | undefined;
  private failoverStartedAt: number | undefined;
  failoversSeen = 0;
  /** Increments when a failover starts and when the master switches (see `durableWrite`). */
  generation = 0;

  constructor(
    private readonly options: ResolvedRedisSentinelOptions,
    private readonly events: RedisSentinelEvents,
    private readonly logger: Logger,
    private readonly errors: RateLimitedLogger,
  ) {}

  /** The master as last announced by `+switch-master` or seen by a master client. */
  get currentMaster(): RedisAddress | undefined {
    return this.knownMaster;
  }

  /** The last switch, if it happened within `maxAgeMs`. */
  recentSwitch(maxAgeMs: number): SwitchMaster | undefined {
    return this.latest && Date.now() - this.latest.at <= maxAgeMs ? this.latest : undefined;
  }

  /**
   * `true` between `+try-failover` and the switch (or abort): the old master may still accept
   * writes that only a replica about to be re-pointed acknowledges.
   */
  get failoverInProgress(): boolean {
    if (this.failoverStartedAt === undefined) return false;
    if (Date.now() - this.failoverStartedAt > FAILOVER_STALE_MS) this.failoverStartedAt = undefined;
    return this.failoverStartedAt !== undefined;
  }

  /**
   * `false` while the watcher should see failovers but no Sentinel connection is live (every
   * Sentinel down or unreachable, or just restarted and not subscribed again yet): a failover could
   * then run unseen. Always `true` with `failoverWatcher: false` (the polls are all there is).
   */
  get watching(): boolean {
    if (!this.options.failoverWatcher) return true;
    const now = Date.now();
    // Any Sentinel may lead a failover and only the leader announces `+try-failover`, so every
    // one must be heard, or known not to run: a refused connection (ECONNREFUSED) means its
    // process is not listening. A silent one (frozen, partitioned, just restarted and not yet
    // subscribed again) could be failing over unseen.
    return this.subscribers.every(
      (client) =>
        this.refused.has(client) ||
        (client.status === 'ready' && now - (this.lastHeard.get(client) ?? 0) < WATCHER_LIVE_MS),
    );
  }

  /** Watcher connections that are subscribed and answered within the liveness window. */
  get sentinelsHeard(): number {
    const now = Date.now();
    return this.subscribers.filter(
      (client) => client.status === 'ready' && now - (this.lastHeard.get(client) ?? 0) < WATCHER_LIVE_MS,
    ).length;
  }

  /**
   * Resolves `true` once every Sentinel is heard or refusing connections (`watching`), or `false`
   * after `deadlineMs`. Never rejects.
   */
  whenWatching(deadlineMs: number): Promise<boolean> {
    if (this.watching) return Promise.resolve(true);
    return new Promise((resolve) => {
      const started = Date.now();
      const timer = setInterval(() => {
        const watching = this.watching;
        if (!watching && Date.now() - started < deadlineMs) return;
        clearInterval(timer);
        resolve(watching);
      }, WATCHING_POLL_MS);
      timer.unref();
    });
  }

  /** One PING per live connection: an answer proves the Sentinel would deliver announcements. */
  private pingSubscribers(): void {
    for (const client of this.subscribers) {
      if (client.status !== 'ready') continue;
      withDeadline(client.ping(), WATCHER_PING_MS, 'watcher PING').then(
        () => this.lastHeard.set(client, Date.now()),
        () => undefined,
      );
    }
  }

  /** A master client verified `address` as master. */
  noteMaster(address: RedisAddress): void {
    this.knownMaster = address;
  }

  onSwitch(listener: (change: SwitchMaster) => void): void {
    this.listeners.add(listener);
  }

  offSwitch(listener: (change: SwitchMaster) => void): void {
    this.listeners.delete(listener);
  }

  /** Connects and subscribes; resolves once at least one Sentinel delivers announcements. */
  start(): Promise<void> {
    this.pollTimer = setInterval(() => void this.poll(), this.options.topologyCheckIntervalMs);
    // Never keeps the process alive on its own.
    this.pollTimer.unref();
    if (!this.options.failoverWatcher) return Promise.resolve();
    this.pingTimer = setInterval(() => this.pingSubscribers(), WATCHER_PING_MS);
    this.pingTimer.unref();
    const subscribed: Promise<unknown>[] = [];
    for (const sentinel of this.options.sentinels) {
      const label = formatAddress(sentinel)!;
      const client = new Redis({
        ...sentinelConnectionOptions(sentinel, this.options),
        // A Sentinel that restarts is resubscribed within a quarter second, never given up: until a
        // subscription is back a failover would run unseen, and durable writes are refused.
        retryStrategy: (attempt) => cappedBackoff(attempt, 50, WATCHER_RETRY_MAX_DELAY_MS, 50),
        maxRetriesPerRequest: null,
        autoResubscribe: true,
        connectionName: 'bastion:failover-watcher',
        // No commandTimeout: ioredis subscribes again after a reconnect without handling a
        // rejection. The PINGs carry their own deadline; a silent socket is dropped.
        socketTimeout: WATCHER_SOCKET_TIMEOUT_MS,
      });
      client.on('error', (error: Error & { code?: string }) => {
        // Only a refusal says the process is not running; a timeout or a reset says nothing.
        if (error.code === 'ECONNREFUSED') this.refused.add(client);
        else this.refused.delete(client);
        this.errors.error(`watcher:${label}`, {
          message: `Sentinel ${label}: ${error.message}`,
          event: 'sentinel-error',
          sentinel: label,
          error: error.message,
        });
      });
      client.on('message', (channel: string, message: string) => {
        this.lastHeard.set(client, Date.now());
        if (channel === CHANNEL) this.handleSwitchMessage(message, label);
      });
      client.on('pmessage', (_pattern: string, channel: string, message: string) => {
        this.lastHeard.set(client, Date.now());
        this.handleProgress(channel, message);
      });
      // After a reconnect ioredis subscribes again first: a PING answered then proves it.
      client.on('connect', () => this.refused.delete(client));
      client.on('ready', () => {
        this.pingSubscribers();
      });
      const subscribing = Promise.all([client.subscribe(CHANNEL), client.psubscribe(FAILOVER_PATTERN)]);
      subscribing.then(
        () => this.lastHeard.set(client, Date.now()),
        () => undefined,
      );
      subscribed.push(subscribing);
      this.subscribers.push(client);
    }
    // A Sentinel that is down keeps its subscription pending (it is retried): one is enough.
    subscribed.forEach((p) => p.catch(() => undefined));
    return Promise.any(subscribed).then(
      () => undefined,
      () => undefined,
    );
  }

  private handleProgress(channel: string, message: string): void {
    // `<instance-type> <name> <ip> <port> [@ <master-name> <ip> <port>]`
    const parts = message.split(' ');
    const masterName = parts[0] === 'master' ? parts[1] : parts[parts.indexOf('@') + 1];
    if (masterName !== this.options.masterName) return;
    // `+try-failover` opens a failover; a `+failover-state-*` step counts too, for a watcher that
    // (re)subscribed after the start (a Sentinel restarted and asked to fail over at once).
    if (channel === '+try-failover' || channel.startsWith('+failover-state-')) {
      if (this.failoverStartedAt === undefined) {
        this.generation++;
        this.logger.warn({
          message: `Sentinel failover of "${masterName}" started`,
          event: 'failover-started',
          masterName,
        });
      }
      this.failoverStartedAt = Date.now();
    } else if (channel === '+failover-end' || channel.startsWith('-failover-abort')) {
      this.failoverStartedAt = undefined;
    }
  }

  private handleSwitchMessage(message: string, sentinel: string): void {
    // <master-name> <old-ip> <old-port> <new-ip> <new-port>
    const [name, oldHost, oldPort, newHost, newPort] = message.split(' ');
    if (name !== this.options.masterName || !newHost || !newPort) return;
    const to = applyNatMap({ host: newHost, port: Number(newPort) }, this.options.natMap);
    const from =
      oldHost && oldPort
        ? applyNatMap({ host: oldHost, port: Number(oldPort) }, this.options.natMap)
        : undefined;
    this.announce(from, to, sentinel);
  }

  private announce(from: RedisAddress | undefined, to: RedisAddress, source: string): void {
    this.failoverStartedAt = undefined;
    this.candidate = undefined;
    // Every Sentinel publishes the same switch (and the poll may have seen it first): act once.
    const key = `${formatAddress(from)}>${formatAddress(to)}`;
    if (key === this.lastAnnounced) return;
    this.lastAnnounced = key;
    this.failoversSeen++;
    this.generation++;
    this.latest = { from, to, at: Date.now() };
    this.knownMaster = to;
    const { masterName } = this.options;
    this.logger.warn({
      // "+switch-master" as Sentinel writes it, so one LogQL filter finds both sides of a failover.
      message: `+switch-master ${masterName} ${formatAddress(from)} -> ${formatAddress(to)}`,
      event: 'switch-master',
      masterName,
      from: formatAddress(from),
      to: formatAddress(to),
      sentinel: source,
      failoversSeen: this.failoversSeen,
    });
    for (const listener of this.listeners) listener(this.latest);
    this.events.emit('switch-master', { masterName, from, to, sentinel: source });
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.knownMaster) return;
    this.polling = true;
    try {
      const { sentinels, sentinelCommandTimeoutMs } = this.options;
      const answers = await Promise.all(
        sentinels.map((s) =>
          askMasterAddress(s, this.options, sentinelCommandTimeoutMs).catch(() => undefined),
        ),
      );
      // Only an address that a majority of the configured Sentinels name counts: one Sentinel
      // that is behind (or partitioned away) must never send clients back to a demoted master.
      const quorum = Math.floor(sentinels.length / 2) + 1;
      const named = answers.find(
        (a) => a !== undefined && answers.filter((b) => sameAddress(a, b)).length >= quorum,
      );
      if (!named) return;
      if (sameAddress(named, this.knownMaster)) {
        this.candidate = undefined;
      } else if (sameAddress(named, this.candidate)) {
        // Two polls in a row: not a moment of disagreement during a switch.
        this.announce(this.knownMaster, named, `poll of ${quorum}+ of ${sentinels.length} Sentinels`);
      } else {
        this.candidate = named;
      }
    } finally {
      this.polling = false;
    }
  }

  async stop(deadlineMs: number): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.listeners.clear();
    await Promise.all(this.subscribers.map((c) => closeRedisBounded(c, deadlineMs)));
    this.subscribers.length = 0;
  }
}
