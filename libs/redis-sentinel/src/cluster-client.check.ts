import type { Cluster, Redis } from 'ioredis';

/** An ioredis `Cluster` (duck-typed: ioredis sets `isCluster` on it; no ioredis value import). */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}
