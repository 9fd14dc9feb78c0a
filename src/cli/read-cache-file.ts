import { existsSync, statSync } from 'node:fs';
import sqlite3 from 'sqlite3';
import { UsageError } from './usage-error.js';

/** Complete lookups of one kind, as `ever_loaded` records them. */
export interface Completeness {
  /** Lookups recorded complete. */
  readonly complete: number;
  /** When the oldest and newest of them were loaded (ms since the epoch), or null when there are none. */
  readonly oldest: number | null;
  readonly newest: number | null;
}

export interface CachedEntity extends Completeness {
  readonly name: string;
  readonly table: string | null;
  /** Rows held in its table (null when the table is missing). */
  readonly rows: number | null;
}

/** A hasMany, hasOne or manyToMany relation (a belongsTo has no lookups of its own). */
export interface CachedRelation extends Completeness {
  readonly name: string;
}

export interface CachedQuery extends Completeness {
  /** The query's tag (without the `q:` of its kind). */
  readonly tag: string;
  readonly entity: string | null;
  /** Rows recorded across its answers. */
  readonly rows: number;
}

/** What a cache file holds, read from the file itself (no schema needed). */
export interface CacheContents {
  readonly file: string;
  /** The file's size, and its write-ahead log's. */
  readonly bytes: number;
  readonly walBytes: number;
  readonly entities: CachedEntity[];
  readonly relations: CachedRelation[];
  readonly queries: CachedQuery[];
  /** Kinds of marks that no entity, relation or query of the file's own metadata accounts for. */
  readonly otherKinds: string[];
}

function all<T>(db: sqlite3.Database, sql: string, params: unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => db.all<T>(sql, params, (e, rows) => (e ? reject(e) : resolve(rows))));
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Reads a cache file read-only: entities and relations from its metadata (`adbv_meta`), their complete
 * lookups and ages from `ever_loaded`, row counts from the tables, custom queries from `adbv_queries`.
 * A missing file is a `UsageError`; one that is not an asyncdbview cache, an `Error`.
 */
export async function readCacheFile(file: string): Promise<CacheContents> {
  if (!existsSync(file)) throw new UsageError(`no such cache file: ${file}`);
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (e) => (e ? reject(e) : resolve(d)));
  });
  try {
    let tables: { name: string }[];
    try {
      tables = await all<{ name: string }>(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
    } catch (error) {
      throw new Error(`${file} is not a SQLite database (${(error as Error).message})`, { cause: error });
    }
    const have = new Set(tables.map((t) => t.name));
    if (!have.has('ever_loaded')) throw new Error(`${file} is not an asyncdbview cache (it has no ever_loaded table)`);
    const meta = have.has('adbv_meta') ? await all<{ name: string; fingerprint: string }>(db, 'SELECT name, fingerprint FROM adbv_meta ORDER BY name') : [];
    const marks = new Map(
      (await all<{ kind: string; n: number; oldest: number; newest: number }>(db, 'SELECT kind, COUNT(*) AS n, MIN(loaded_at) AS oldest, MAX(loaded_at) AS newest FROM ever_loaded GROUP BY kind')).map(
        (r) => [r.kind, { complete: r.n, oldest: r.oldest, newest: r.newest }],
      ),
    );
    const none: Completeness = { complete: 0, oldest: null, newest: null };
    const seen = new Set<string>();
    const entities: CachedEntity[] = [];
    const relations: CachedRelation[] = [];
    for (const m of meta) {
      // Entity tables are recorded by table (`table:<name>`, naming their entity; join tables name none),
      // by files of earlier versions by entity (`entity:<name>`, naming their table).
      const byTable = m.name.startsWith('table:');
      if (m.name.startsWith('entity:') || byTable) {
        let fp: { table?: string; entity?: string };
        try {
          fp = JSON.parse(m.fingerprint) as { table?: string; entity?: string };
        } catch {
          fp = {};
        }
        if (byTable && typeof fp.entity !== 'string') continue;
        const name = byTable ? (fp.entity as string) : m.name.slice('entity:'.length);
        const table = byTable ? m.name.slice('table:'.length) : (fp.table ?? null);
        const rows = table !== null && have.has(table) ? ((await all<{ n: number }>(db, `SELECT COUNT(*) AS n FROM ${quote(table)}`))[0]?.n ?? 0) : null;
        entities.push({ name, table, rows, ...(marks.get(name) ?? none) });
        seen.add(name);
      } else if (m.name.startsWith('relation:')) {
        const name = m.name.slice('relation:'.length);
        seen.add(name);
        // A belongsTo is answered by its target's entity lookups: it has no marks of its own.
        let kind: unknown;
        try {
          kind = (JSON.parse(m.fingerprint) as unknown[])[0];
        } catch {
          kind = undefined;
        }
        if (kind !== 'belongsTo') relations.push({ name, ...(marks.get(name) ?? none) });
      }
    }
    const queries: CachedQuery[] = [];
    const recorded = have.has('adbv_queries')
      ? await all<{ kind: string; entity: string; rows: number }>(
          db,
          'SELECT q.kind, MIN(q.entity) AS entity, (SELECT COUNT(*) FROM adbv_query_rows r WHERE r.kind = q.kind) AS rows FROM adbv_queries q GROUP BY q.kind ORDER BY q.kind',
        )
      : [];
    for (const q of recorded) {
      queries.push({ tag: q.kind.slice(2), entity: q.entity, rows: q.rows, ...(marks.get(q.kind) ?? none) });
      seen.add(q.kind);
    }
    const otherKinds = [...marks.keys()].filter((k) => !seen.has(k)).sort();
    const bytes = statSync(file).size;
    const wal = `${file}-wal`;
    return { file, bytes, walBytes: existsSync(wal) ? statSync(wal).size : 0, entities, relations, queries, otherKinds };
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}
