export type JobStatus = 'queued' | 'processing' | 'done';

export interface JobView {
  id: string;
  status: JobStatus;
  attempts: number;
}

/** Redis keys of the job queue. */
export const JOBS_STREAM = 'jobs:stream';
export const JOBS_GROUP = 'jobs:workers';
export const jobKey = (id: string): string => `job:${id}`;
