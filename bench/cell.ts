/**
 * One cell of the matrix, in a fresh child process (so its peak RSS is its own): opens one implementation,
 * then prepares and runs the scenario each time the runner says so. The runner reads MariaDB's counters
 * around each run (not around the preparation).
 * The cold-start scenario runs once, timed from the process's time origin (its start).
 */
import { makePlans, type CellSpec, type FromCell, type RunReport, type ToCell } from './common.js';
import { implementations } from './implementations.js';
import type { Impl } from './impl/types.js';

function send(message: FromCell): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) reject(new Error('bench/cell.js must be started by bench/run.js'));
    else process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

const maxRssKiB = (): number => process.resourceUsage().maxRSS;

/** The timed part of a run (and the untimed clean-up after it); `impl.beforeRun` was called before. */
async function runOnce(impl: Impl, spec: CellSpec, plans: ReturnType<typeof makePlans>, fromProcessStart: boolean): Promise<RunReport> {
  const cache0 = impl.cacheStatements?.() ?? null;
  const origin0 = impl.selfOriginStatements?.() ?? null;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const outcome = await impl.run(spec.scenario, plans);
  const t1 = performance.now();
  // User + system CPU of the whole process (every thread: libuv's pool runs node-sqlite3's statements).
  const c1 = process.cpuUsage(fromProcessStart ? undefined : c0);
  const cache1 = impl.cacheStatements?.() ?? null;
  const origin1 = impl.selfOriginStatements?.() ?? null;
  await impl.afterRun?.();
  return {
    ...outcome,
    wallMs: fromProcessStart ? t1 : t1 - t0,
    cpuMs: (c1.user + c1.system) / 1000,
    // From process start, the cache statements include opening the cache.
    cacheStatements: cache1 === null || cache0 === null ? null : fromProcessStart ? cache1 : cache1 - cache0,
    selfOriginStatements: origin1 === null || origin0 === null ? null : fromProcessStart ? origin1 : origin1 - origin0,
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as CellSpec;
  const coldStart = spec.scenario === 'coldstart';
  const impl = await (await implementations[spec.impl].load())(spec);
  const plans = makePlans(spec.seed);
  if (coldStart) {
    await impl.beforeRun?.();
    await send({ type: 'ran', ...(await runOnce(impl, spec, plans, true)) });
    await impl.close();
    await send({ type: 'done', maxRssKiB: maxRssKiB() });
    return;
  }
  await send({ type: 'ready', rssKiB: Math.round(process.memoryUsage().rss / 1024) });
  for await (const message of messages()) {
    if (message.type === 'prepare') {
      // Untimed and outside the runner's counter window: may connect, open files, even query.
      await impl.beforeRun?.();
      await send({ type: 'prepared' });
    } else if (message.type === 'run') {
      await send({ type: 'ran', ...(await runOnce(impl, spec, plans, false)) });
    } else {
      await impl.close();
      await send({ type: 'done', maxRssKiB: maxRssKiB() });
      return;
    }
  }
}

async function* messages(): AsyncGenerator<ToCell> {
  const queue: ToCell[] = [];
  let wake: (() => void) | undefined;
  process.on('message', (m: ToCell) => {
    queue.push(m);
    wake?.();
  });
  for (;;) {
    while (queue.length > 0) yield queue.shift() as ToCell;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
}

main().then(
  () => process.disconnect?.(),
  async (error: unknown) => {
    await send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }).catch(() => undefined);
    process.exit(1);
  },
);
