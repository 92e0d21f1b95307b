/**
 * The few ioredis 6.0 `Cluster` internals the Cluster module needs and that ioredis has no public
 * API for, kept in one file so an ioredis upgrade has one place to check; the cluster tests cover
 * each of them against a real Redis Cluster.
 */
import type { Cluster, Command, Redis } from 'ioredis';

interface ClusterInternals {
  /** Slot → node keys (`host:port`), the master first. */
  slots: Array<string[] | undefined>;
  connectionPool: { getInstanceByKey(key: string): Redis | undefined };
  refreshSlotsCache(callback?: (error?: Error) => void): void;
  getInfoFromNode(redis: Redis, callback: (error?: Error) => void): void;
  sendCommand(command: Command, stream?: unknown, node?: unknown): Promise<unknown>;
}

const internals = (cluster: Cluster): ClusterInternals => cluster as unknown as ClusterInternals;

/** The master (`host:port`, natMap applied) that the client's slot map names for `slot`. */
export function slotMaster(cluster: Cluster, slot: number): string | undefined {
  return internals(cluster).slots[slot]?.[0];
}

/** The client's slot map as slot → master key: a copy, for comparing before and after a refresh. */
export function slotMasters(cluster: Cluster): Array<string | undefined> {
  const { slots } = internals(cluster);
  return Array.from({ length: 16_384 }, (_, slot) => slots[slot]?.[0]);
}

/** The connection of the client to the node `key`, if it has one. */
export function nodeConnection(cluster: Cluster, key: string | undefined): Redis | undefined {
  return key === undefined ? undefined : internals(cluster).connectionPool.getInstanceByKey(key);
}

/**
 * Reloads the slot map (`CLUSTER SLOTS` on one known node after the other, each bounded by
 * `slotsRefreshTimeout`). Joins a refresh already running. Resolves with its error, never rejects.
 */
export function refreshSlots(cluster: Cluster): Promise<Error | undefined> {
  return new Promise((resolve) => internals(cluster).refreshSlotsCache((error) => resolve(error)));
}

/**
 * Wraps `Cluster#sendCommand`, through which every command of the client passes (not pipelines):
 * `before` sees the command first; `after` sees it once ioredis has put its own `reject` (the
 * redirect and retry handling) in place.
 */
export function interceptCommands(
  cluster: Cluster,
  before: (command: Command) => void,
  after: (command: Command) => void,
): void {
  const c = internals(cluster);
  const send = c.sendCommand.bind(cluster);
  const seen = new WeakSet<Command>();
  c.sendCommand = (command, stream, node) => {
    const first = !stream && !node && !seen.has(command);
    if (first) before(command);
    const promise = send(command, stream, node);
    if (first) {
      seen.add(command);
      after(command);
    }
    return promise;
  };
}

/**
 * Reloads the slot map from one node the caller chose (`CLUSTER SLOTS` on a fresh connection to
 * it, within `slotsRefreshTimeout`), and applies it as a refresh would. Never rejects.
 */
export function refreshSlotsFrom(cluster: Cluster, node: Redis): Promise<Error | undefined> {
  return new Promise((resolve) => internals(cluster).getInfoFromNode(node, (error) => resolve(error)));
}

/** Sends a command again through the cluster's routing (by its slot); its `reject` stays as it is. */
export function resendCommand(cluster: Cluster, command: Command): void {
  void internals(cluster)
    .sendCommand(command)
    .catch(() => undefined);
}

/** The commands queued in a pipeline (ioredis keeps them in `_queue`). */
export function pipelineCommands(pipeline: unknown): Command[] {
  return Reflect.get(pipeline as object, '_queue') as Command[];
}
