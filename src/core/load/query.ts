// The custom query lookup kind: caller SQL whose rows are full rows of one entity, cached under (tag, params).
import type { QueryKey } from '../cache-store.js';
import type { CompiledEntity } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { LoadContext } from './context.js';
import type { LookupKind } from './lookup-kind.js';

/** A custom query as the pipeline runs it: its completeness key (`q:tag`, params text) and its SQL. */
export interface QueryRequest {
  readonly entity: CompiledEntity;
  readonly key: QueryKey;
  readonly sql: string;
  readonly params: readonly unknown[];
  /** The caller's tag, for messages. */
  readonly tag: string;
  readonly maxAge: number | undefined;
}

/**
 * Running one custom query. Its one "key" is its parameters' text; its answer is its rows in the
 * origin's order. Rows that are not full rows of the entity are refused before anything is written.
 */
export function queryLookup(ctx: LoadContext, q: QueryRequest): LookupKind<Row[]> {
  const { entity, key } = q;
  return {
    id: key.kind,
    maxAge: q.maxAge,
    subject: () => `query ${q.tag} ${key.params}`,
    async read(_keys, notBefore) {
      const rows = await ctx.cache.readQuery(entity, key, notBefore);
      return rows === undefined ? new Map() : new Map<KeyValue, Row[]>([[key.params, rows]]);
    },
    select: () => ctx.selectSql(entity, q.sql, q.params),
    answers(_keys, rows) {
      checkFullRows(q, rows);
      return new Map<KeyValue, Row[]>([[key.params, rows]]);
    },
    merge: (_keys, rows, readAt) => ctx.cache.merge({ entity, rows, loadedAt: readAt, query: { ...key, sql: q.sql } }),
  };
}

/** A custom query's rows must be whole rows of its entity with a key, or nothing of them is stored. */
function checkFullRows(q: QueryRequest, rows: readonly Row[]): void {
  const first = rows[0];
  if (first === undefined) return;
  const { entity } = q;
  const missing = entity.columns.filter((c) => !(c.name in first)).map((c) => c.name);
  if (missing.length > 0) {
    throw new TypeError(
      `query ${q.tag}: rows are not full rows of ${entity.name}; missing column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (select ${entity.table}.* or every column)`,
    );
  }
  if (rows.some((r) => entity.key.of(r) === null)) throw new TypeError(`query ${q.tag}: a row has a NULL key column`);
}
