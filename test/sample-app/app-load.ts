/**
 * A steady load on the sample app for its failover specs (Sentinel and Cluster mode): jobs,
 * notifications, cache reads, sign-ins of a user over the limit, readiness probes. Every answer is
 * recorded; a request that hangs past its deadline or fails at the socket is an error.
 */
import { expect, vi } from 'vitest';
import type { AppProcess, NotificationSocket, SseClient } from './app-process.js';

/** Every request must finish within this deadline, whatever Redis does (loose sanity bound). */
export const REQUEST_DEADLINE_MS = 5000;

export interface LoadResult {
  accepted: string[];
  rejected: number;
  errors: string[];
  /** Answers other than the expected success or a retryable 503 (a 500 would land here). */
  unexpected: string[];
  /** Cache and session reads through the failover: any status other than 200/503 is unexpected. */
  reads: number;
  longestMs: number;
  readyStatuses: number[];
  readyLongestMs: number;
  /** Sign-in attempts of a user who was over the limit before the fault, by status. */
  blockedSignIns: Record<number, number>;
  /** Accepted jobs that a worker started more than once (a completion lost in the failover). */
  rerun: number;
  /** From the end of the load until every accepted job was done. */
  allDoneAfterMs: number;
}

/**
 * Keeps posting jobs and notifications, reading the cache, polling readiness, and signing in as
 * `blockedUser` (over the sign-in limit), until `stop()`.
 */
export function startLoad(
  app: AppProcess,
  blockedUser: string,
): { result: LoadResult; stop: () => Promise<LoadResult> } {
  const result: LoadResult = {
    accepted: [],
    rejected: 0,
    errors: [],
    unexpected: [],
    reads: 0,
    longestMs: 0,
    readyStatuses: [],
    readyLongestMs: 0,
    blockedSignIns: {},
    rerun: 0,
    allDoneAfterMs: 0,
  };
  const state = { running: true };
  const track = async (
    fn: () => Promise<{ status: number; ms: number; body: any }>,
    onResult: (r: any) => void,
  ) => {
    while (state.running) {
      try {
        const r = await fn();
        result.longestMs = Math.max(result.longestMs, r.ms);
        onResult(r);
      } catch (err) {
        result.errors.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const expectOr503 = (r: { status: number; body: any }, ok: number, what: string) => {
    if (r.status === ok) return true;
    if (r.status !== 503 || r.body?.retryable !== true) result.unexpected.push(`${what} ${r.status}`);
    return false;
  };
  const onJob = (r: { status: number; body: any }) => {
    if (expectOr503(r, 202, 'POST /jobs')) result.accepted.push(r.body.id);
    else result.rejected++;
  };
  const loops = [
    track(
      () =>
        app.request('POST', '/jobs', { payload: { n: Math.random() } }, { timeoutMs: REQUEST_DEADLINE_MS }),
      (r) => onJob(r),
    ),
    track(
      () => app.request('POST', '/jobs', { payload: 'second writer' }, { timeoutMs: REQUEST_DEADLINE_MS }),
      (r) => onJob(r),
    ),
    track(
      () => app.request('POST', '/notifications', { message: 'load' }, { timeoutMs: REQUEST_DEADLINE_MS }),
      (r) => expectOr503(r, 202, 'POST /notifications'),
    ),
    track(
      () => app.request('GET', '/cache/failover-key', undefined, { timeoutMs: REQUEST_DEADLINE_MS }),
      (r) => {
        result.reads++;
        expectOr503(r, 200, 'GET /cache/:key');
      },
    ),
    track(
      () => app.request('POST', '/session', { user: blockedUser }, { timeoutMs: REQUEST_DEADLINE_MS }),
      (r) => {
        result.blockedSignIns[r.status] = (result.blockedSignIns[r.status] ?? 0) + 1;
        // Fails closed: over the limit it is 429, and 503 while the count cannot be made; a 201
        // would be an attempt let through (uncounted, or a count the failover lost).
        if (r.status !== 429) expectOr503(r, 429, 'POST /session over the limit');
      },
    ),
    track(
      () => app.request('GET', '/health/ready', undefined, { timeoutMs: REQUEST_DEADLINE_MS }),
      (r) => {
        result.readyStatuses.push(r.status);
        result.readyLongestMs = Math.max(result.readyLongestMs, r.ms);
      },
    ),
  ];
  return {
    result,
    stop: async () => {
      state.running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

export async function allDone(app: AppProcess, ids: string[]): Promise<string[]> {
  const pending: string[] = [];
  for (const id of ids) {
    const r = await app.request('GET', `/jobs/${id}`);
    if (r.body?.status !== 'done') pending.push(id);
  }
  return pending;
}

/**
 * Posts a notification to `app` after a failover and waits until the SSE client (its subscriber
 * re-subscribed) and every Socket.IO client (through the adapter's subscriber, on each instance)
 * got it.
 */
export async function expectNotificationDelivered(
  app: AppProcess,
  sse: SseClient,
  sockets: NotificationSocket[],
): Promise<void> {
  const marker = `after-failover-${Date.now()}`;
  expect((await app.request('POST', '/notifications', { message: marker })).status).toBe(202);
  await vi.waitFor(
    () => {
      expect(
        sse.messages.some((m) => m.message === marker),
        'the post-failover notification over SSE',
      ).toBe(true);
      expect(
        sockets.map((s) => s.messages.some((m) => m.message === marker)),
        'the post-failover notification on Socket.IO (each instance)',
      ).toEqual(sockets.map(() => true));
    },
    { timeout: 10_000, interval: 20 },
  );
}
