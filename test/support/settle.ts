/** The outcome of a promise, without throwing: for commands expected to fail or succeed. */
export function settle<T>(p: Promise<T>): Promise<{ value: T | undefined; error: unknown }> {
  return p.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
}
