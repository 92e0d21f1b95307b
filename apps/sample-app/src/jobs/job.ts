import type { JobState } from 'bullmq';

/** The BullMQ queue of this app (`bull:jobs:*` keys; `{bull}:jobs:*` on a Redis Cluster). */
export const JOBS_QUEUE = 'jobs';

/**
 * BullMQ's key prefix on a Redis Cluster: a hash tag, so that every key of the queue is in one
 * slot (BullMQ's scripts touch several keys at once, which a Cluster refuses across slots). In
 * Sentinel mode the default `bull` is kept: the keys of existing deployments stay where they are.
 */
export const JOBS_CLUSTER_PREFIX = '{bull}';

/** What `GET /jobs/:id` answers; the same three statuses as before BullMQ, plus `failed`. */
export type JobStatus = 'queued' | 'processing' | 'done' | 'failed';

export interface JobView {
  id: string;
  status: JobStatus;
  /** Times a worker started it: more than 1 after a retry or a stalled-job recovery (failover). */
  attempts: number;
}

/** The data of a job: the client's payload, as posted. */
export interface JobData {
  payload: unknown;
}

/** BullMQ's states as this API reports them (`unknown`: no such job, answered 404). */
export function jobStatus(state: JobState | 'unknown'): JobStatus | undefined {
  switch (state) {
    case 'waiting':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
      return 'queued';
    case 'active':
      return 'processing';
    case 'completed':
      return 'done';
    case 'failed':
      return 'failed';
    default:
      return undefined;
  }
}
