/**
 * Polls `check` until it returns true; an exception counts as "not yet" (a server still starting).
 * Rejects after `timeoutMs` with `what` and the last error, so a broken condition fails, never hangs.
 *
 * The topology's own wait, usable outside a test runner (`npm run demo`). Tests wait with Vitest's
 * `vi.waitFor()` / `expect.poll()` instead.
 */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}
