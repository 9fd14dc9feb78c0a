import type { KeyValue } from '../core/codec.js';
import { Mode } from '../core/mode.js';
import type { Origin } from '../core/origin.js';
import type { CompiledEntity } from '../core/schema.js';
import type { Store } from '../core/store/store.js';
import { openStore } from '../create-store.js';
import { cacheOption, driverOption, DRIVER_OPTION } from './cache-option.js';
import { positiveIntOption, stringOption, type Command } from './command.js';
import { ExitCode } from './exit-codes.js';
import { includeOption } from './include-option.js';
import { loadSchema } from './load-schema.js';
import { originFromUrl } from './origin-url.js';
import { Progress } from './progress.js';
import { formatStoreSummary, storeSummary } from './store-summary.js';
import { UsageError } from './usage-error.js';

const quote = (name: string) => '`' + name.replaceAll('`', '``') + '`';

/** The `--mode` values, as a person types them (`prefer-cache`, `PREFER_CACHE`, `freshen`). */
const MODES: Readonly<Record<string, Mode>> = { 'prefer-cache': Mode.PREFER_CACHE, freshen: Mode.FRESHEN };

/** `view.X.many`, for an entity named at run time. */
type Many = { many(keys: readonly unknown[], options: object): Promise<readonly unknown[]> };

/** Turns a key as the driver returned it into the key `view.X()` takes. */
function keyOf(entity: CompiledEntity, row: Record<string, unknown>): KeyValue | unknown[] {
  const parts = entity.key.columns.map((c, i) => {
    const v = row[`k${i}`];
    if (c.type === 'bigint') return BigInt(String(v));
    if (c.type === 'integer') return Number(v);
    return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  });
  return entity.key.composite ? parts : (parts[0] as KeyValue);
}

export const warm: Command = {
  name: 'warm',
  summary: 'fill a cache for offline use: every row of every entity, with their relations',
  usage: '--schema FILE --origin URL --cache FILE [--entity NAME] [--include JSON] [--mode prefer-cache|freshen] [--batch-size N] [--driver DRIVER]',
  description: [
    'Loads every row of every entity (or of --entity) into the cache, by the primary keys the origin',
    'lists, in batches, and preloads an include tree on each batch, so the cache can answer them offline.',
    'The default include tree is every relation of the entity, one level deep: then every lookup from a',
    'warmed row is complete in the cache. --include gives the tree of --entity as JSON, e.g.',
    `'{"posts": {"comments": true}}'; without --entity, an object of trees by entity name. '{}' loads the`,
    'rows alone.',
    'By default (--mode prefer-cache) what the cache already holds complete is not read again, so a warm',
    'that was interrupted (Ctrl-C) resumes where it stopped, and warming a complete cache only lists the',
    'keys; --mode freshen reads everything from the origin again and corrects the cache. The origin is',
    'contacted before the cache file is created: when it cannot be reached, no file is left behind.',
    'Progress goes to stderr (a bar on a terminal, plain lines otherwise); a summary to stdout.',
    'FILE is a JavaScript module exporting the schema as `schema` or as its default export.',
  ].join('\n'),
  options: {
    schema: { type: 'string', value: 'FILE', description: 'the schema module (a .js/.mjs file)', required: true },
    origin: { type: 'string', value: 'URL', description: 'the origin: mysql://user:password@host:port/database, or sqlite:FILE', required: true },
    cache: { type: 'string', value: 'FILE', description: 'the cache file (created if missing)', required: true },
    entity: { type: 'string', value: 'NAME', description: 'warm this entity only' },
    include: { type: 'string', value: 'JSON', description: 'the include tree to preload (see above)' },
    mode: { type: 'string', value: 'MODE', description: 'prefer-cache (default: skip what the cache holds complete, so an interrupted warm resumes) or freshen (read everything again)' },
    'batch-size': { type: 'string', value: 'N', description: 'keys per batch (default 1000)' },
    driver: DRIVER_OPTION,
    json: { type: 'boolean', description: 'print the summary as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress' },
  },
  async run(values) {
    const schema = await loadSchema(stringOption(values, 'schema') as string);
    const origin = originFromUrl(stringOption(values, 'origin') as string);
    const cacheFile = stringOption(values, 'cache') as string;
    const batchSize = positiveIntOption(values, 'batch-size', 1000);
    const modeName = stringOption(values, 'mode') ?? 'prefer-cache';
    const mode = MODES[modeName.toLowerCase().replaceAll('_', '-')];
    if (mode === undefined) throw new UsageError(`--mode: expected prefer-cache or freshen, got ${JSON.stringify(modeName)}`);
    driverOption(values);
    const only = stringOption(values, 'entity');
    const names = Object.keys(schema.entities);
    if (only !== undefined && !names.includes(only)) throw new UsageError(`--entity: the schema has no entity ${JSON.stringify(only)}; entities: ${names.join(', ')}`);
    const entities = only === undefined ? names : [only];
    const includes = includeOption(schema, entities, stringOption(values, 'include'), only !== undefined);

    const t0 = performance.now();
    const progress = new Progress('warm', { quiet: values.quiet === true });
    // A warm is there to fill the file: each batch is committed before the next is asked, so a warm stopped
    // at any point resumes from exactly what it wrote.
    await using store = await openAfterContact(origin, () => openStore(schema, { origin, cache: cacheOption(values, cacheFile), mode, batchSize, cacheWrites: 'before-answer' }));
    const keys = new Map<string, unknown[]>();
    {
      await using view = store.view();
      for (const name of entities) {
        const entity = schema.compiled.byName.get(name) as CompiledEntity;
        const cols = entity.key.columns.map((c, i) => `${c.type === 'bigint' ? `CAST(${quote(c.name)} AS CHAR)` : quote(c.name)} AS k${i}`);
        const rows = await view.raw(`SELECT ${cols.join(', ')} FROM ${quote(entity.table)} ORDER BY ${entity.key.columns.map((c) => quote(c.name)).join(', ')}`);
        keys.set(name, rows.map((r) => keyOf(entity, r)));
      }
    }
    const total = [...keys.values()].reduce((n, k) => n + k.length, 0);
    const rows: Record<string, number> = {};
    let done = 0;
    progress.update(0, total, entities[0] ?? '');
    for (const name of entities) {
      const all = keys.get(name) as unknown[];
      rows[name] = 0;
      for (let i = 0; i < all.length; i += batchSize) {
        const chunk = all.slice(i, i + batchSize);
        // A view per batch, so memory holds one batch's rows at a time.
        await using view = store.view();
        const accessor = (view as unknown as Record<string, Many>)[name] as Many;
        const found = await accessor.many(chunk, { include: includes.get(name), nullForMissing: true });
        rows[name] += found.filter((o) => o !== null).length;
        done += chunk.length;
        progress.update(done, total, name);
      }
    }
    progress.end();
    const summary = { cache: cacheFile, rows, ...storeSummary(store.stats, performance.now() - t0) };
    if (values.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const rowCount = Object.values(rows).reduce((a, b) => a + b, 0);
      process.stdout.write(
        [
          `warmed ${cacheFile} from ${origin.description}`,
          `  rows               ${rowCount} (${Object.entries(rows).map(([e, n]) => `${e} ${n}`).join(', ')})`,
          ...formatStoreSummary(summary),
          '',
        ].join('\n'),
      );
    }
    return ExitCode.OK;
  },
};

/**
 * Opens the origin and connects to it before `open` makes the store (which creates the cache file), so
 * an origin that cannot be reached leaves no empty cache file behind. The store then owns the origin.
 */
async function openAfterContact<S extends Store<any>>(origin: Origin, open: () => Promise<S>): Promise<S> {
  try {
    await origin.open();
    await origin.warmUp?.();
    return await open();
  } catch (error) {
    await origin.close().catch(() => undefined);
    throw error;
  }
}
