// store.refreshAll(): every lookup the cache records complete, read again from the origin in batches.
import { decodeParams, normalizeKey } from '../codec.js';
import { NotFoundError } from '../errors.js';
import { loadAll } from '../load/whole-table.js';
import { Mode } from '../mode.js';
import type { CompiledColumn, CompiledEntity } from '../schema.js';
import type { KeyValue } from '../values.js';
import type { ViewState } from '../view/view-state.js';
import type { CacheStore } from '../cache-store.js';
import type { CompiledSchema } from '../schema.js';

/** Options of `store.refreshAll()`. */
export interface RefreshAllOptions {
  /** Called after each batch with the lookups done so far and in all. */
  onProgress?: (progress: { kind: string; done: number; total: number }) => void;
}

/**
 * @internal Re-reads every complete lookup through views of their own (FRESHEN, forced), one per chunk
 * of `batchSize` keys so memory holds one chunk's rows at a time; every read takes the same path as any
 * lookup. Whole tables (`X.all()`, kind `X.*`) are read last, one statement each, so the entity
 * refreshes before them cannot drop the marks they write. Rejects with the first failure other than absence.
 */
export async function refreshAll(
  schema: CompiledSchema,
  cache: CacheStore,
  batchSize: number,
  makeView: () => ViewState,
  options: RefreshAllOptions,
): Promise<{ lookups: number }> {
  const lookups = await cache.completeLookups();
  const queries = await cache.recordedQueries();
  const work: { kind: string; keys: KeyValue[]; run: (view: ViewState, keys: KeyValue[]) => Promise<unknown[]> }[] = [];
  const wholeTables: CompiledEntity[] = [];
  for (const { kind, keys } of lookups) {
    const whole = kind.endsWith('.*') ? schema.byName.get(kind.slice(0, -2)) : undefined;
    if (whole !== undefined) {
      wholeTables.push(whole);
      continue;
    }
    const entity = schema.byName.get(kind);
    if (entity !== undefined) {
      work.push({ kind, keys: keys.map((k) => storedKey(entity, k)), run: (v, ks) => v.refreshEntities(entity, ks) });
      continue;
    }
    const rel = schema.relations.find((r) => r.id === kind);
    if (rel !== undefined) work.push({ kind, keys: keys.map((k) => storedKey(rel.source, k)), run: (v, ks) => v.refreshRelation(rel, ks) });
  }
  const total = work.reduce((n, w) => n + w.keys.length, 0) + queries.length + wholeTables.length;
  let done = 0;
  const report = (kind: string) => options.onProgress?.({ kind, done, total });
  for (const w of work) {
    for (let i = 0; i < w.keys.length; i += batchSize) {
      const chunk = w.keys.slice(i, i + batchSize);
      const view = makeView();
      const results = await w.run(view, chunk).finally(() => view.close());
      const failure = results.find((r) => r instanceof Error && !(r instanceof NotFoundError));
      if (failure !== undefined) throw failure;
      done += chunk.length;
      report(w.kind);
    }
  }
  for (const q of queries) {
    const entity = schema.byName.get(q.entity);
    if (entity === undefined) continue;
    const view = makeView();
    await view.runQuery(entity, q, q.sql, decodeParams(q.params), Mode.FRESHEN, { tag: q.kind.slice(2) }, true).finally(() => view.close());
    done++;
    report(q.kind);
  }
  for (const entity of wholeTables) {
    const view = makeView();
    await loadAll(view.ctx, entity, Mode.FRESHEN).finally(() => view.close());
    done++;
    report(`${entity.name}.*`);
  }
  return { lookups: done };
}

/** A key as the cache stores it (composite keys as their canonical text, bigints as text), made canonical. */
function storedKey(entity: CompiledEntity, stored: unknown): KeyValue {
  if (entity.key.composite) return stored as string;
  return normalizeKey(entity, (entity.key.columns[0] as CompiledColumn).type === 'bigint' ? BigInt(stored as string) : stored);
}
