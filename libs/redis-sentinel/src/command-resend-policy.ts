import { exists, hasFlag } from '@ioredis/commands';

/** What the policy reads of an ioredis command that was in flight when its connection dropped. */
export interface InFlightCommand {
  readonly name: string;
  readonly inTransaction?: boolean;
  readonly pipelineIndex?: number;
}

/**
 * Whether a command in flight on a dropped connection may be sent again on the next one. Only a
 * lone read-only command (by Redis's own command table: `GET`, `MGET`, `XREAD` without a group,
 * `EVALSHA_RO`...) or (un)subscription: running it twice changes nothing. A write may already have been applied, and a
 * command of a pipeline or a `MULTI` would lose the atomicity it was sent with; those are rejected
 * with `RedisConnectionLostError` instead. Scripts (`EVALSHA`) count as writes.
 */
export function mayResend(command: InFlightCommand): boolean {
  if (command.inTransaction || command.pipelineIndex !== undefined) return false;
  const name = command.name.toLowerCase();
  return SUBSCRIPTION_COMMANDS.has(name) || (exists(name) && hasFlag(name, 'readonly'));
}

/**
 * (Un)subscribing twice changes nothing either. And ioredis subscribes again after a reconnect
 * without handling a rejection: rejecting such a call would be an unhandled rejection, and the
 * subscription would be gone for good.
 */
const SUBSCRIPTION_COMMANDS = new Set([
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
]);
