import type { KeyValue, Row } from './codec.js';
import type { StatementListener } from './events.js';
import type { CompiledColumn, CompiledEntity, CompiledKey, CompiledThrough } from './schema.js';

/**
 * One set-wise read: the rows of `entity` whose `where` columns equal one of `keys` (for a composite,
 * `where.components(key)` gives the values of its columns).
 */
export interface SelectRequest {
  readonly entity: CompiledEntity;
  readonly where: CompiledKey;
  readonly keys: readonly KeyValue[];
  /** Order wanted (relations); the core re-checks it, so a differing collation cannot reorder results. */
  readonly orderBy?: readonly CompiledColumn[];
  /**
   * For a manyToMany relation: `where` is the join table's source column, and each row also carries that
   * source key as `$src` (a target row linked to several sources comes once per source).
   */
  readonly through?: CompiledThrough;
  /**
   * Each row also carries `$i`: the index in `keys` of the asked key it answers, as the origin's own
   * `WHERE column = ?` matched them (a collation may match `'ABC'` to `'abc'`, a DECIMAL `'7'` to `7.00`);
   * a row answering several asked keys comes once for each. Asked only for keys that can match another
   * spelling (see `compareExactly`).
   */
  readonly asked?: boolean;
}

/**
 * One level of an include tree read in one round trip: the rows of `entity` whose `where` columns equal
 * either the given `keys`, or the `from.columns` of the rows selected by level `from.level` (a subquery
 * the origin evaluates, so no level waits for the one above it).
 */
export interface TreeLevel {
  readonly entity: CompiledEntity;
  readonly where: CompiledKey;
  readonly orderBy?: readonly CompiledColumn[];
  readonly through?: CompiledThrough;
  readonly keys?: readonly KeyValue[];
  readonly from?: { readonly level: number; readonly columns: CompiledKey };
}

/**
 * The slow, read-only database the data comes from. The core knows only this interface;
 * `mysqlOrigin` and `sqliteOrigin` implement it.
 */
export interface Origin {
  /** Names the origin in messages (no credentials). */
  readonly description: string;
  /** Connects (or checks it can); called by `store.open()`. */
  open(): Promise<void>;
  /** Releases what `open()` acquired; a pool the caller passed in is left open. */
  close(): Promise<void>;
  /** Runs one statement; rows come back with canonical values for their column types. */
  select(request: SelectRequest): Promise<Row[]>;
  /**
   * Reads every level of a tree in one round trip, from one consistent snapshot; rows per level, canonical.
   * Origins that cannot are loaded level by level instead.
   */
  selectTree?(levels: readonly TreeLevel[]): Promise<Row[][]>;
  /** Whether `selectTree` really sends all levels in one round trip here (else trees load level by level). */
  treeInOneRoundTrip?(): boolean;
  /** Runs caller-written SQL whose rows are rows of `entity`; their columns come back canonical. */
  selectSql(entity: CompiledEntity, sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Runs caller-written SQL with bound parameters, read-only; rows as the driver returns them. */
  raw(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Opens its connections now (all of them), so the first lookups do not pay for connecting. */
  warmUp?(): Promise<void>;
  /** Asks the driver to give up on a statement after `ms` (the store also stops waiting then). */
  setTimeout?(ms: number): void;
  /** Reports each statement it sends (the store forwards them as `query` events). */
  observe?(listener: StatementListener): void;
}
