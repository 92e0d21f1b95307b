import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { RedisClusterClientRole } from './redis-cluster-options.interface.js';

/** Payloads of the events that `RedisClusterEvents` emits. */
export interface RedisClusterEventMap {
  /**
   * A client's slot map names another master for `slots` slots that `from` served: a failover
   * (promoted replica) or a resharding. Counted in `stats().failoversSeen`, and in
   * `promotionsSeen` when it is a promotion.
   */
  'slot-owner-change': [
    {
      client: string;
      from: string | undefined;
      to: string;
      slots: number;
      /** A promotion (failover, manual or not): `to` served no slot before and `from` serves none now. */
      promotion: boolean;
      /**
       * Milliseconds from the client's first sign of a failing node (a node error or lost
       * connection, a timed-out or lost command, CLUSTERDOWN) to this change; undefined when none
       * came first (a resharding or a manual failover).
       */
      failingForMs: number | undefined;
    },
  ];
  /** A node of a client failed (connection error, refused command) or left the client's pool. */
  'node-error': [{ client: string; node: string | undefined; error: Error }];
  /** A client lost every node and will connect again after `delayMs`. */
  reconnecting: [{ client: string; attempt: number; delayMs: number }];
  /** A client is ready: slot map loaded, `cluster_state:ok`. */
  ready: [{ client: string; role: RedisClusterClientRole; nodes: number }];
  /** An error of a client (already logged, rate-limited). */
  error: [{ client: string; error: Error }];
}

/**
 * Typed event stream of the Cluster module's clients. Inject it to feed metrics or alerts:
 * `events.on('slot-owner-change', ({ from, to }) => ...)`. An internal listener is always attached
 * to `error`, so an error event never crashes the process.
 */
@Injectable()
export class RedisClusterEvents extends EventEmitter<RedisClusterEventMap> {
  constructor() {
    super();
    this.on('error', () => undefined);
  }
}
