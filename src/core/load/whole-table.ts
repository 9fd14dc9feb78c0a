// view.X.all(): every row of an entity, in key order, as a lookup of its own with a completeness mark.
import { sortRows } from '../codec.js';
import { IsOfflineError, isUnreachable } from '../errors.js';
import { Mode, readsCacheFirst } from '../mode.js';
import type { CompiledEntity } from '../schema.js';
import type { Row } from '../values.js';
import type { LoadContext } from './context.js';

/** The SQL reading a whole table at the origin: backquoted names, which MySQL, MariaDB and SQLite all read. */
function wholeTableSql(entity: CompiledEntity): string {
  const quote = (name: string) => `\`${name.replaceAll('`', '``')}\``;
  return `SELECT ${entity.columns.map((c) => quote(c.name)).join(', ')} FROM ${quote(entity.table)} ORDER BY ${entity.key.columns.map((c) => quote(c.name)).join(', ')}`;
}

/**
 * Every row of `entity` under `mode`: from the cache when it records the whole table (PREFER_CACHE,
 * OFFLINE, OFFLINE_FALLBACK; not older than the entity's `maxAge` where it applies), else from the origin
 * in one statement — one state of the table — written to the cache in one transaction in chunks of the
 * batch size, which also completes each row's entity lookup. `fresh`: read from the origin now.
 */
export async function loadAll(ctx: LoadContext, entity: CompiledEntity, mode: Mode): Promise<{ rows: Row[]; fresh: boolean }> {
  const kind = `${entity.name}.*`;
  const notBefore = readsCacheFirst(mode) && entity.maxAge !== undefined ? Date.now() - entity.maxAge : undefined;
  if (mode !== Mode.FRESHEN) {
    // A write of answers already given may drop the whole-table mark (a row the origin added or changed).
    await ctx.settleWrites();
    const cached = await ctx.cache.readAll(entity, notBefore);
    ctx.count(kind, cached === undefined ? 0 : 1, cached === undefined ? 1 : 0);
    if (cached !== undefined) return { rows: cached, fresh: false };
  } else ctx.count(kind, 0, 1);
  if (mode === Mode.OFFLINE || !ctx.hasOrigin) {
    throw new IsOfflineError(`all ${entity.name} rows are not in the cache and ${ctx.hasOrigin ? 'the view is offline' : 'the store has no origin'}`);
  }
  try {
    const readAt = Date.now();
    const rows = await ctx.selectSql(entity, wholeTableSql(entity), []);
    sortRows(rows, entity.key.columns);
    await ctx.cache.mergeAll(entity, rows, readAt, ctx.batchSize);
    return { rows, fresh: true };
  } catch (error) {
    if (mode !== Mode.OFFLINE_FALLBACK || !isUnreachable(error)) throw error;
    const cached = await ctx.cache.readAll(entity);
    if (cached === undefined) throw new IsOfflineError(`all ${entity.name} rows are not in the cache and the origin cannot be reached`, { cause: error });
    ctx.fellBack(kind, 1, error);
    return { rows: cached, fresh: false };
  }
}
