import { createConnection } from 'node:net';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AbstractConnector } from 'ioredis';
import { sleep } from './timing.js';
import { formatAddress, type RedisAddress } from './redis-address.js';
import { RedisSentinelUnavailableError } from './redis-sentinel.errors.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import { askHealthyReplicas, askMasterAddress } from './sentinel-query.js';
import { classifySentinelAnswer, type SentinelAnswer } from './startup-problems.js';

type NetStream = Awaited<ReturnType<AbstractConnector['connect']>>;
type ErrorEmitter = Parameters<AbstractConnector['connect']>[0];

/** What the connector needs from the client that owns it. */
export interface SentinelConnectorContext {
  readonly options: ResolvedRedisSentinelOptions;
  /** `true` for replica clients (read from a replica, fall back to the master). */
  readonly wantsReplica: boolean;
  /** The master address announced by a fresh `+switch-master`, used without asking a Sentinel. */
  switchHint(): RedisAddress | undefined;
  /** Delay before the next round when no Sentinel answered. */
  sentinelRetryDelay(round: number): number;
  /** Called when the socket is opened, with what the node is expected to be. */
  onDial(address: RedisAddress, expected: 'master' | 'slave', viaHint: boolean): void;
  /** Called by the ready check: `true` if the node's role is the expected one. */
  onRoleChecked(serverRole: string | undefined, expected: 'master' | 'slave'): void;
  /** Called after a round in which every configured Sentinel was asked and none named a node. */
  onSentinelRoundFailed(answers: readonly SentinelAnswer[]): void;
}

/**
 * ioredis connector that asks the Sentinels (or takes the address of a fresh `+switch-master`)
 * and dials the master or a replica. ioredis keeps doing the rest: handshake, ready check
 * (which calls `check()` below), offline queue, resubscribe, reconnect loop.
 *
 * Why not ioredis's own SentinelConnector: after `+switch-master` it reconnects through the
 * Sentinels again (which may still name the old master) and after a backoff; here the
 * announced address is dialled at once.
 */
export class SentinelMasterConnector extends AbstractConnector {
  private order: RedisAddress[];
  private wake = new AbortController();
  private expected: 'master' | 'slave' = 'master';
  private lastError: string | undefined;

  constructor(private readonly ctx: SentinelConnectorContext) {
    super(2000);
    this.order = [...ctx.options.sentinels];
  }

  /** `true` while the node expected by the last dial is a replica fallen back to the master. */
  get servingFromMaster(): boolean {
    return this.ctx.wantsReplica && this.expected === 'master';
  }

  override check(info: { role?: string }): boolean {
    const ok = !info.role || info.role === this.expected;
    this.ctx.onRoleChecked(info.role, this.expected);
    // A stale Sentinel named this node: ask the next one first next time.
    if (!ok) this.order.push(this.order.shift()!);
    return ok;
  }

  /** Cuts short a wait between Sentinel rounds, e.g. because `+switch-master` arrived. */
  interrupt(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  override disconnect(): void {
    this.interrupt();
    this.connecting = false;
    // ioredis arms a destroy timer on disconnect; pointless (and a stray handle) on a closed socket.
    if (this.stream && !this.stream.destroyed) super.disconnect();
  }

  async connect(emit: ErrorEmitter): Promise<NetStream> {
    this.connecting = true;
    for (let round = 1; ; round++) {
      const target = await this.resolve();
      if (!this.connecting) throw new Error('Connection is closed.');
      if (target) return this.dial(target.address, target.viaHint);
      const { options } = this.ctx;
      emit(
        'error',
        new RedisSentinelUnavailableError(
          options.masterName,
          options.sentinels.map((s) => formatAddress(s)!),
          this.lastError,
        ),
      );
      await sleep(this.ctx.sentinelRetryDelay(round), this.wake.signal);
      if (!this.connecting) throw new Error('Connection is closed.');
    }
  }

  private async resolve(): Promise<{ address: RedisAddress; viaHint: boolean } | undefined> {
    const { options, wantsReplica } = this.ctx;
    const hinted = (): { address: RedisAddress; viaHint: boolean } | undefined => {
      const hint = wantsReplica ? undefined : this.ctx.switchHint();
      if (hint) this.expected = 'master';
      return hint ? { address: hint, viaHint: true } : undefined;
    };
    const first = hinted();
    if (first) return first;
    const answers: SentinelAnswer[] = [];
    for (const sentinel of this.order) {
      if (!this.connecting) return undefined;
      try {
        let address: RedisAddress | undefined;
        if (wantsReplica) {
          const replicas = await askHealthyReplicas(sentinel, options, options.sentinelCommandTimeoutMs);
          if (replicas.length > 0) {
            address = replicas[Math.floor(Math.random() * replicas.length)];
            this.expected = 'slave';
          }
        }
        if (!address) {
          address = await askMasterAddress(sentinel, options, options.sentinelCommandTimeoutMs);
          this.expected = 'master';
        }
        this.promote(sentinel);
        // A switch announced while we were asking wins over a possibly stale answer.
        return hinted() ?? { address: address!, viaHint: false };
      } catch (err) {
        this.lastError = `${formatAddress(sentinel)}: ${(err as Error).message}`;
        answers.push(classifySentinelAnswer(sentinel, err as Error));
      }
    }
    const late = hinted();
    if (!late && this.connecting) this.ctx.onSentinelRoundFailed(answers);
    return late;
  }

  private promote(sentinel: RedisAddress): void {
    this.order = [sentinel, ...this.order.filter((s) => s !== sentinel)];
  }

  private dial(address: RedisAddress, viaHint: boolean): NetStream {
    const { tls } = this.ctx.options;
    const stream: NetStream = tls
      ? tlsConnect({
          ...(isIP(address.host) ? {} : { servername: address.host }),
          ...tls,
          host: address.host,
          port: address.port,
        })
      : createConnection({ host: address.host, port: address.port });
    stream.once('error', (err) => {
      this.firstError = err;
    });
    this.stream = stream;
    this.ctx.onDial(address, this.expected, viaHint);
    return stream;
  }
}
