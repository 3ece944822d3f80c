import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api';

export interface Polled<T> {
  data: T | null;
  error: ApiFailure | null;
  refresh: () => void;
}

/**
 * Calls `load` now and every `everyMs` while the tab is visible (a hidden tab costs the registry
 * nothing); `deps` restart it. Keeps the last good data while a later call fails.
 */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[]): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let stopped = false;
    let inFlight = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      clearTimeout(timer);
      if (inFlight) return; // the call under way schedules the next one
      inFlight = true;
      try {
        if (!document.hidden) {
          const value = await loadRef.current();
          if (!stopped) {
            setData(value);
            setError(null);
          }
        }
      } catch (failure) {
        if (!stopped) setError(failure instanceof ApiFailure ? failure : new ApiFailure(0, String(failure)));
      } finally {
        inFlight = false;
      }
      if (!stopped) timer = setTimeout(() => void run(), everyMs);
    };
    void run();
    const onVisible = () => {
      if (!document.hidden) void run();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [...deps, tick]);
  return { data, error, refresh: () => setTick((n) => n + 1) };
}
