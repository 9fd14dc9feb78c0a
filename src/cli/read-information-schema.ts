import type { Origin } from '../core/origin.js';

/** A column as `information_schema.COLUMNS` describes it. */
export interface DbColumn {
  readonly name: string;
  /** `DATA_TYPE`, lower case: `int`, `varchar`, `longtext`… */
  readonly dataType: string;
  /** `COLUMN_TYPE`, lower case: `int(11) unsigned`, `tinyint(1)`… */
  readonly columnType: string;
  readonly nullable: boolean;
  /** A CHECK constraint `json_valid(column)` holds it to JSON (MariaDB's JSON type). */
  readonly json: boolean;
}

/** A foreign key: `columns` of this table reference `referencedColumns` of `referencedTable`, pairwise. */
export interface DbForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  readonly referencedTable: string;
  readonly referencedColumns: readonly string[];
}

/** A base table of the origin database. */
export interface DbTable {
  readonly name: string;
  readonly columns: readonly DbColumn[];
  /** Primary key columns in key order; empty when there is none. */
  readonly primaryKey: readonly string[];
  /** Column sets of the unique indexes (primary key included). */
  readonly uniqueKeys: readonly (readonly string[])[];
  readonly foreignKeys: readonly DbForeignKey[];
}

type R = Record<string, unknown>;
const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** Reads the base tables of the origin's current database from `information_schema`, in name order. */
export async function readInformationSchema(origin: Origin): Promise<DbTable[]> {
  const tables = await origin.raw(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [],
  );
  const columns = await origin.raw(
    'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, COLUMN_TYPE AS ct, IS_NULLABLE AS n FROM information_schema.COLUMNS ' +
      'WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION',
    [],
  );
  const keys = await origin.raw(
    'SELECT TABLE_NAME AS t, INDEX_NAME AS i, COLUMN_NAME AS c FROM information_schema.STATISTICS ' +
      'WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
    [],
  );
  const fks = await origin.raw(
    'SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS k, COLUMN_NAME AS c, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc ' +
      'FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE() ' +
      'AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION',
    [],
  );
  // MariaDB's JSON is LONGTEXT with CHECK (json_valid(column)); MySQL has a real json type (and no TABLE_NAME here).
  let checks: R[] = [];
  try {
    checks = await origin.raw('SELECT TABLE_NAME AS t, CHECK_CLAUSE AS cc FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()', []);
  } catch {
    checks = [];
  }
  const jsonColumns = new Set<string>();
  for (const r of checks) {
    const m = /^json_valid\(`?([^`()]+)`?\)$/i.exec(str(r.cc).trim());
    if (m !== null) jsonColumns.add(`${str(r.t)}.${m[1]}`);
  }
  const byTable = new Map<string, { columns: DbColumn[]; unique: Map<string, string[]>; fks: Map<string, { cols: string[]; rt: string; rcs: string[] }> }>();
  for (const r of tables) byTable.set(str(r.t), { columns: [], unique: new Map(), fks: new Map() });
  for (const r of columns) {
    const t = byTable.get(str(r.t));
    if (t === undefined) continue; // a view's column
    t.columns.push({
      name: str(r.c),
      dataType: str(r.dt).toLowerCase(),
      columnType: str(r.ct).toLowerCase(),
      nullable: str(r.n) === 'YES',
      json: jsonColumns.has(`${str(r.t)}.${str(r.c)}`),
    });
  }
  for (const r of keys) {
    const t = byTable.get(str(r.t));
    if (t === undefined) continue;
    const cols = t.unique.get(str(r.i)) ?? [];
    cols.push(str(r.c));
    t.unique.set(str(r.i), cols);
  }
  for (const r of fks) {
    const t = byTable.get(str(r.t));
    if (t === undefined) continue;
    const fk = t.fks.get(str(r.k)) ?? { cols: [], rt: str(r.rt), rcs: [] };
    fk.cols.push(str(r.c));
    fk.rcs.push(str(r.rc));
    t.fks.set(str(r.k), fk);
  }
  return [...byTable].map(([name, t]) => ({
    name,
    columns: t.columns,
    primaryKey: t.unique.get('PRIMARY') ?? [],
    uniqueKeys: [...t.unique.values()],
    foreignKeys: [...t.fks].map(([k, fk]) => ({ name: k, columns: fk.cols, referencedTable: fk.rt, referencedColumns: fk.rcs })),
  }));
}
