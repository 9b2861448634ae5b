/**
 * Remembers a pure function's results by argument, forgetting them all once `max` are held: for
 * values that are few in practice (Host headers, public origins behind one load balancer) but
 * chosen by clients, so the memory stays bounded whatever they send.
 */
export function memoize<K, V>(fn: (key: K) => V, max: number): (key: K) => V {
  const seen = new Map<K, V>();
  return (key) => {
    let value = seen.get(key);
    if (value === undefined) {
      if (seen.size >= max) seen.clear();
      seen.set(key, (value = fn(key)));
    }
    return value;
  };
}
