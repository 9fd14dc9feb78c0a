// The cache port: what the core asks of the local cache in front of the origin (`sqliteCache` implements it).
import type { LocalChangeSet, LocalWrite } from './local/local-change.js';
import type { KeyValue, Row } from './values.js';
import type { StatementListener } from './events.js';
import type { CompiledEntity, CompiledRelation, CompiledSchema } from './schema.js';

/** What the cache knows of some entity keys. Keys in neither list were never asked (or are too old). */
export interface EntityRead {
  /** Rows held for the asked keys, decoded. */
  readonly rows: Row[];
  /** Keys recorded as absent at the origin. */
  readonly absentKeys: KeyValue[];
  /** Asked keys the origin matched to a row of another spelling, with that row (not also in `rows`). */
  readonly aliased?: readonly (readonly [asked: KeyValue, row: Row])[];
}

/** What the cache holds complete for some relation keys. Keys whose group is absent were never loaded. */
export interface RelationRead {
  /**
   * Target rows of every complete key, decoded, in the relation's order within each key. For a
   * manyToMany relation each row carries its source key as `$src`.
   */
  readonly rows: Row[];
  /** Keys recorded complete with no rows. */
  readonly emptyKeys: KeyValue[];
}

/** A custom query's completeness key: its tag and its parameters in canonical form. */
export interface QueryKey {
  /** `q:` + the caller's tag. */
  readonly kind: string;
  /** The parameters, encoded by `encodeParams`. */
  readonly params: string;
}

/** A custom query the cache holds complete, as recorded (for `refreshAll`). */
export interface RecordedQuery extends QueryKey {
  readonly entity: string;
  readonly sql: string;
}

/** What `store.verify()` found. */
export interface VerifyReport {
  /**
   * True when the file is sound: no problem was found, or (with `repair`) every problem found was a mark
   * not backed by its rows, and has been dropped.
   */
  readonly ok: boolean;
  /** Each problem found, naming the lookup (kind and key) and what is wrong. */
  readonly problems: string[];
  /** Marks dropped by `repair` (0 without it). */
  readonly repaired: number;
  /** Completeness marks checked. */
  readonly marks: number;
  /** Rows held, by entity. */
  readonly rows: Record<string, number>;
}

/**
 * One origin answer to write: rows of one entity and the lookups they complete, applied in one transaction
 * so no completeness mark is ever visible without its rows.
 */
export interface MergeBatch {
  readonly entity: CompiledEntity;
  /** Full rows of `entity`, canonical values (manyToMany rows also carry `$src`). */
  readonly rows: readonly Row[];
  /**
   * Milliseconds since the epoch at which the origin read that gave this answer began: the cache never
   * lets it overwrite rows, links or marks of a read that began later.
   */
  readonly loadedAt: number;
  /** Entity keys looked up: each is now complete (present in `rows`, or absent). */
  readonly entityKeys?: readonly KeyValue[];
  /** Of `entityKeys`, those the origin does not have: cached rows under them are dropped. */
  readonly absentKeys?: readonly KeyValue[];
  /**
   * Of `entityKeys`, those the origin matched to a row of another spelling (`asked` → the row's key, a
   * row of `rows`): each answers that row until a later answer for it says otherwise. Single-column keys.
   */
  readonly aliases?: readonly (readonly [asked: KeyValue, key: KeyValue])[];
  /**
   * Relation keys whose whole answer is `rows`: what the cache held for them and is not in `rows` is
   * dropped (rows for hasMany/hasOne, links for manyToMany).
   */
  readonly relation?: {
    readonly rel: CompiledRelation;
    readonly keys: readonly KeyValue[];
    /** Of `keys`, those whose answer has rows under another spelling of the key: answered, not marked complete. */
    readonly unmarked?: readonly KeyValue[];
  };
  /** A custom query whose whole answer, in order, is `rows`: its recorded answer is replaced. */
  readonly query?: QueryKey & { readonly sql: string };
  /** No fetch claims were taken for these lookups (a tree load), so there are none to release. */
  readonly unclaimed?: boolean;
}

/**
 * The local cache in front of the origin, with its ever-loaded record of complete lookups.
 * The core knows only this interface; `sqliteCache` implements it.
 *
 * `notBefore` (ms since the epoch), where given, makes lookups recorded complete before then count as
 * not complete (`maxAge`).
 */
export interface CacheStore {
  /** Names the cache in messages. */
  readonly description: string;
  /** Statements sent to the cache database so far. */
  readonly statementCount: number;
  /** Opens the database and creates the entity tables and the ever-loaded table. */
  open(schema: CompiledSchema): Promise<void>;
  /** Waits for writes in progress, then closes. */
  close(): Promise<void>;
  /** One statement: the rows and absence marks for `keys`. */
  readEntities(entity: CompiledEntity, keys: readonly KeyValue[], notBefore?: number): Promise<EntityRead>;
  /** One statement: the rows of every key of `rel` recorded complete. */
  readRelation(rel: CompiledRelation, keys: readonly KeyValue[], notBefore?: number): Promise<RelationRead>;
  /** One statement: a custom query's recorded rows in their recorded order, or undefined if not complete. */
  readQuery(entity: CompiledEntity, key: QueryKey, notBefore?: number): Promise<Row[] | undefined>;
  /**
   * Writes origin answers (one, or several levels of a tree), rows and marks, in one transaction. The
   * cache may hold the write back a moment to commit it with the next ones; `hurry()` ends the wait.
   */
  merge(batch: MergeBatch | readonly MergeBatch[]): Promise<void>;
  /** Commits writes held back for company now: the caller is about to wait for them. */
  hurry(): void;
  /** Every lookup recorded complete, by kind (entity name, `Entity.relation`, or `q:tag`), keys as stored. */
  completeLookups(): Promise<{ kind: string; keys: unknown[] }[]>;
  /** Every custom query recorded complete. */
  recordedQueries(): Promise<RecordedQuery[]>;
  /**
   * Claims the right to fetch `keys` of a lookup kind from the origin, for processes sharing this cache.
   * `kind` is spelled as completeness marks spell it: an entity name (`A`), a relation id (`A.bs`) or a
   * custom query (`q:tag`, whose key is its parameters' text); the cache knows each kind's key encoding
   * from its schema. Returns the keys now claimed by this process; the others are being fetched by another
   * process whose claim has not expired, or were marked complete at or after `markedSince` since the
   * caller read the cache. `merge` of the answer releases them. A cache no other process shares (as far
   * as it knows) returns every key without a statement: claims only spare fetches, answers never depend
   * on them. `waited`: the keys were another process's to fetch when last asked, so the claim looks at the
   * file whatever the store believes (the other may have completed them and left).
   */
  claim(kind: string, keys: readonly KeyValue[], markedSince: number, waited?: boolean): Promise<KeyValue[]>;
  /** Gives up claims after a failed fetch, so other processes need not wait for them to expire (none taken: nothing sent). */
  release(kind: string, keys: readonly KeyValue[]): Promise<void>;
  /**
   * Checks that every completeness mark is backed by exactly the rows it recorded, and the file's
   * integrity; a damaged file is a report, not a throw. `repair` drops every mark not so backed.
   */
  verify(options?: { readonly repair?: boolean }): Promise<VerifyReport>;
  /** Reports each statement it sends (the store forwards them as `query` events). */
  observe?(listener: StatementListener): void;
  /** Runs caller SQL on the cache, read-only. */
  sql(sql: string, params: readonly unknown[]): Promise<Row[]>;

  /**
   * One statement: every row of `entity` in key order, if the whole table is recorded complete (at or
   * after `notBefore`), else undefined.
   */
  readAll(entity: CompiledEntity, notBefore?: number): Promise<Row[] | undefined>;
  /**
   * Writes the origin's whole table of `entity` in one transaction, in chunks of `chunk` rows: every row
   * (each row's entity lookup complete), the rows it no longer has removed, and the whole-table mark.
   */
  mergeAll(entity: CompiledEntity, rows: readonly Row[], loadedAt: number, chunk: number): Promise<void>;

  // ---- local changes: kept in the cache, shown by every read of it, never sent to the origin ----------

  /**
   * Writes one local change in one transaction: recorded with the origin row it was made against, and its
   * row put in (or taken out of) the entity table, so every read of the cache shows it at once. Origin
   * answers merged later do not overwrite it (their row is recorded as the change's `origin`). No
   * completeness mark is written or removed.
   */
  writeLocal(write: LocalWrite): Promise<void>;
  /** Every local change held, in the order made, with the version of the file's local changes. */
  localChanges(): Promise<LocalChangeSet>;
  /**
   * The version of the file's local changes, which every local write or discard changes: one statement,
   * or none while no other store shares the file and the cache's own writes cannot have moved it.
   */
  localVersion(): Promise<number>;
  /**
   * Drops local changes (all, or those of `targets`) in one transaction, putting the origin's rows back
   * where known; the marks those rows may stand under are dropped. Returns how many were dropped.
   */
  discardLocal(targets?: readonly { readonly entity: string; readonly key: KeyValue }[]): Promise<number>;
}
