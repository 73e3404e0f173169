import { useCallback, useEffect, useRef, useState } from "react";

export type Polled<T> = { data?: T; error?: Error; loading: boolean; reload: () => void };

/**
 * Reads `load` now, whenever `key` changes, and again every `everyMs` while `keepPolling(data)`
 * says the data can still change (a running job); a failed read is shown, and retried on the
 * same schedule.
 */
export const usePolling = <T,>(
  key: string,
  load: () => Promise<T>,
  keepPolling: (data: T | undefined) => boolean,
  everyMs = 5000,
): Polled<T> => {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((value) => value + 1), []);

  useEffect(() => {
    let current = true;
    setLoading(true);
    loadRef
      .current()
      .then((answer) => {
        if (current) {
          setData(answer);
          setError(undefined);
        }
      })
      .catch((failure: unknown) => {
        if (current) {
          setError(failure instanceof Error ? failure : new Error(String(failure)));
        }
      })
      .finally(() => {
        if (current) {
          setLoading(false);
        }
      });
    return () => {
      current = false;
    };
  }, [key, tick]);

  const again = error !== undefined || keepPolling(data);
  useEffect(() => {
    if (!again || loading) {
      return undefined;
    }
    const timer = window.setTimeout(reload, everyMs);
    return () => window.clearTimeout(timer);
  }, [again, loading, everyMs, reload]);

  return { data, error, loading, reload };
};
