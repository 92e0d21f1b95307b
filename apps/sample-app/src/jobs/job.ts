import type { JobState } from 'bullmq';

/** The BullMQ queue of this app (`bull:jobs:*` keys). */
export const JOBS_QUEUE = 'jobs';

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
