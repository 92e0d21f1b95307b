/** A job load: POST /jobs round-robin to every running app task, straight to its address. */

export interface Attempt {
  start: number;
  end: number;
  status: number; // 0: no HTTP answer (refused, reset, timeout)
  target: string;
  id?: string;
  /** Why there was no HTTP answer (timeout, refused, reset, …). */
  error?: string;
}

export class JobLoad {
  readonly attempts: Attempt[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private next = 0;
  private seq = 0;

  constructor(
    private readonly targets: () => string[],
    private readonly concurrency = 3,
  ) {}

  start(): void {
    this.running = true;
    for (let i = 0; i < this.concurrency; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<LoadSummary> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
    return summarize(this.attempts);
  }

  get accepted(): Attempt[] {
    return this.attempts.filter((a) => a.status === 202);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const targets = this.targets();
      if (targets.length === 0) {
        await sleep(100);
        continue;
      }
      const target = targets[this.next++ % targets.length]!;
      const start = Date.now();
      let status = 0;
      let id: string | undefined;
      let error: string | undefined;
      try {
        const res = await fetch(`http://${target}:3000/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ payload: { n: this.seq++ } }),
          signal: AbortSignal.timeout(5_000),
        });
        status = res.status;
        const body = (await res.json().catch(() => ({}))) as { id?: string };
        if (status === 202) id = body.id;
      } catch (err) {
        status = 0;
        const e = err as Error & { cause?: { code?: string; message?: string } };
        error = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.cause?.message ?? e.message);
      }
      this.attempts.push({ start, end: Date.now(), status, target, id, error });
      if (status !== 202) await sleep(50);
    }
  }
}

export interface LoadSummary {
  requests: number;
  accepted: number;
  answered503: number;
  noAnswer: number;
  /** No HTTP answer, by cause. */
  noAnswerBy: Record<string, number>;
  other: number;
  longestMs: number;
}

export function summarize(attempts: Attempt[]): LoadSummary {
  return {
    requests: attempts.length,
    accepted: attempts.filter((a) => a.status === 202).length,
    answered503: attempts.filter((a) => a.status === 503).length,
    noAnswer: attempts.filter((a) => a.status === 0).length,
    noAnswerBy: attempts
      .filter((a) => a.status === 0)
      .reduce<Record<string, number>>(
        (acc, a) => ({ ...acc, [a.error ?? '?']: (acc[a.error ?? '?'] ?? 0) + 1 }),
        {},
      ),
    other: attempts.filter((a) => ![0, 202, 503].includes(a.status)).length,
    longestMs: Math.max(0, ...attempts.map((a) => a.end - a.start)),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
