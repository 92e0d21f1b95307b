import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { RedisAddress } from './redis-address.js';
import type { RedisClientRole } from './redis-sentinel-options.interface.js';

/** Payloads of the events that `RedisSentinelEvents` emits. */
export interface RedisSentinelEventMap {
  /** A Sentinel announced `+switch-master`. `from` is the previous master address. */
  'switch-master': [
    { masterName: string; from: RedisAddress | undefined; to: RedisAddress; sentinel: string },
  ];
  /** A client lost its connection and will reconnect after `delayMs`. */
  reconnecting: [{ client: string; attempt: number; delayMs: number }];
  /** A client is ready; `serverRole` is what the server reported (`master` / `slave`). */
  ready: [
    {
      client: string;
      role: RedisClientRole;
      serverRole: string | undefined;
      address: RedisAddress | undefined;
    },
  ];
  /** An error of a client (already logged, rate-limited). */
  error: [{ client: string; error: Error }];
}

/**
 * Typed event stream of the module's clients. Inject it to feed metrics or alerts:
 * `events.on('switch-master', ({ from, to }) => ...)`.
 * An internal listener is always attached to `error`, so an error event never crashes the process.
 */
@Injectable()
export class RedisSentinelEvents extends EventEmitter<RedisSentinelEventMap> {
  constructor() {
    super();
    this.on('error', () => undefined);
  }
}
