/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep input order.
 * On the first failure no new calls start, the others are aborted through their signal, and the
 * first error is rethrown only after every started call has settled, so none is left writing
 * (e.g. a temporary file) behind the caller's back.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const controller = new AbortController();
  const results = new Array<R>(items.length);
  let next = 0;
  let firstError: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    while (!firstError && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], controller.signal);
      } catch (error) {
        if (!firstError) {
          firstError = { error };
          controller.abort();
        }
      }
    }
  }
  const workers = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (firstError) throw firstError.error;
  return results;
}
