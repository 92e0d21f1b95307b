/** Runs `work` and says how long it took and how it settled (never throws). */
export async function timed<T>(
  work: () => Promise<T>,
): Promise<{ value: T | undefined; error: unknown; ms: number }> {
  const started = Date.now();
  const result = await work().then(
    (value) => ({ value, error: undefined as unknown }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...result, ms: Date.now() - started };
}
