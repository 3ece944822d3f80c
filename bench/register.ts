/** Registers instances through the REST API, `parallel` requests in flight. */
import { registerInstance, Registered } from '../test/support/registry-client';

export async function registerMany(
  baseUrl: string,
  count: number,
  parallel: number,
  label: string,
  deadlineMs: number,
): Promise<{ instances: Registered[]; ms: number }> {
  const started = performance.now();
  const instances: Registered[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (performance.now() - started > deadlineMs)
        throw new Error(`registering ${count} instances took longer than ${deadlineMs} ms`);
      const index = next++;
      instances.push(await registerInstance(baseUrl, `${label} ${index}`));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return { instances, ms: performance.now() - started };
}
