import type { QueryEvent } from './core/events.js';
import type { Store } from './core/store/store.js';

/** The namespace of origin statements and fallbacks; cache statements are logged under `asyncdbview:cache`. */
export const DEBUG_NAMESPACE = 'asyncdbview';
const CACHE_NAMESPACE = `${DEBUG_NAMESPACE}:cache`;

/** Writes one message under a namespace (`force`: even when `DEBUG` does not enable it). */
type Write = (namespace: string, message: string, force: boolean) => void;

/**
 * Whether `namespace` is enabled by a `DEBUG` value, as the `debug` package decides it: names and `*`
 * wildcards separated by commas or spaces, a leading `-` excluding.
 */
export function debugEnabled(namespace: string, setting: string | undefined = process.env.DEBUG): boolean {
  if (setting === undefined || setting.trim() === '') return false;
  let enabled = false;
  for (const pattern of setting.split(/[\s,]+/)) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('-');
    const body = negated ? pattern.slice(1) : pattern;
    const re = new RegExp(`^${body.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*?')}$`);
    if (!re.test(namespace)) continue;
    if (negated) return false;
    enabled = true;
  }
  return enabled;
}

let writer: Promise<Write> | undefined;

/**
 * The `debug` package's loggers when it is installed (an optional peer dependency, imported only now),
 * else a stand-in writing to stderr in `debug`'s format: `  namespace message +Nms` on a terminal,
 * `ISO-date namespace message` otherwise.
 */
function loadWriter(): Promise<Write> {
  writer ??= (async (): Promise<Write> => {
    try {
      const specifier = 'debug';
      const mod = (await import(specifier)) as { default?: unknown };
      const createDebug = (mod.default ?? mod) as (namespace: string) => ((format: string, ...args: unknown[]) => void) & { enabled: boolean };
      const loggers = new Map<string, ReturnType<typeof createDebug>>();
      return (namespace, message, force) => {
        let log = loggers.get(namespace);
        if (log === undefined) loggers.set(namespace, (log = createDebug(namespace)));
        if (force) log.enabled = true;
        log('%s', message); // not the message as the format: SQL may hold % sequences
      };
    } catch {
      return fallbackWriter();
    }
  })();
  return writer;
}

/** The stand-in for `debug` when it is not installed. */
export function fallbackWriter(stream: NodeJS.WriteStream = process.stderr): Write {
  const last = new Map<string, number>();
  return (namespace, message) => {
    if (stream.isTTY) {
      const now = Date.now();
      const diff = now - (last.get(namespace) ?? now);
      last.set(namespace, now);
      stream.write(`  ${namespace} ${message} +${diff}ms\n`);
    } else {
      stream.write(`${new Date().toISOString()} ${namespace} ${message}\n`);
    }
  };
}

/** One statement event as a log line: where, how long, how many rows, the SQL. */
export function formatQueryEvent(event: QueryEvent): string {
  const sql = event.sql.replace(/\s+/g, ' ').trim();
  const outcome = event.error === undefined ? `${event.rows} row${event.rows === 1 ? '' : 's'}` : `FAILED (${event.error.message})`;
  return `${event.target} ${event.durationMs.toFixed(1)}ms ${outcome} ${event.params} param${event.params === 1 ? '' : 's'}: ${sql}`;
}

/**
 * Logs a store's statements and fallbacks through the `debug` package (or its stand-in): origin statements
 * and fallbacks under `asyncdbview`, cache statements under `asyncdbview:cache`. `createStore` calls it
 * when the `DEBUG` environment variable enables either; call it yourself to log regardless (`force`).
 * Returns a function that stops the logging.
 *
 * @example
 * // DEBUG=asyncdbview node app.js          origin statements
 * // DEBUG=asyncdbview* node app.js         cache statements too
 * const stop = attachDebugLog(store, { force: true });
 */
export function attachDebugLog(store: Store<any>, options: { force?: boolean } = {}): () => void {
  const origin = options.force === true || debugEnabled(DEBUG_NAMESPACE);
  const cache = options.force === true || debugEnabled(CACHE_NAMESPACE);
  if (!origin && !cache) return () => undefined;
  // Lines are queued until `debug` is loaded, then written in order.
  const force = options.force === true;
  let write: Write | undefined;
  const pending: [string, string][] = [];
  void loadWriter().then((w) => {
    write = w;
    for (const [namespace, message] of pending.splice(0)) w(namespace, message, force);
  });
  const emit = (namespace: string, message: string) => {
    if (write === undefined) pending.push([namespace, message]);
    else write(namespace, message, force);
  };
  const onQuery = (event: QueryEvent) => {
    if (event.target === 'origin' ? origin : cache) emit(event.target === 'origin' ? DEBUG_NAMESPACE : CACHE_NAMESPACE, formatQueryEvent(event));
  };
  const onFallback = (event: { kind: string; lookups: number; cause: unknown }) => {
    if (!origin) return;
    const cause = event.cause instanceof Error ? event.cause.message : String(event.cause);
    emit(DEBUG_NAMESPACE, `fallback ${event.kind}: ${event.lookups} lookup${event.lookups === 1 ? '' : 's'} answered from the cache (${cause})`);
  };
  store.on('query', onQuery);
  store.on('fallback', onFallback);
  return () => {
    store.off('query', onQuery);
    store.off('fallback', onFallback);
  };
}
