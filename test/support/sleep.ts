/**
 * A fixed pause, for where the passing of time is what a test exercises (a batch interval, a
 * load that runs for a while). To wait for a condition, poll it with `vi.waitFor()` /
 * `expect.poll()` instead.
 */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
