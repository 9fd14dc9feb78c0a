import type { KeyValue, Row } from './codec.js';
import type { CompiledEntity, CompiledRelation, CompiledSchema } from './schema.js';

/** What the cache knows of some entity keys. Keys in neither list were never asked. */
export interface EntityRead {
  /** Rows held for the asked keys, decoded. */
  readonly rows: Row[];
  /** Keys recorded as absent at the origin. */
  readonly absentKeys: KeyValue[];
}

/** What the cache holds complete for some relation keys. Keys whose group is absent were never loaded. */
export interface RelationRead {
  /** Target rows of every complete key, decoded, in the relation's order within each key. */
  readonly rows: Row[];
  /** Keys recorded complete with no rows. */
  readonly emptyKeys: KeyValue[];
}

/**
 * One origin answer to write: rows of one entity and the lookups they complete, applied in one transaction
 * so no completeness mark is ever visible without its rows.
 */
export interface MergeBatch {
  readonly entity: CompiledEntity;
  /** Full rows of `entity`, canonical values. */
  readonly rows: readonly Row[];
  /** Milliseconds since the epoch at which the origin answered. */
  readonly loadedAt: number;
  /** Entity keys looked up: each is now complete (present in `rows`, or absent). */
  readonly entityKeys?: readonly KeyValue[];
  /** Of `entityKeys`, those the origin does not have: cached rows under them are dropped. */
  readonly absentKeys?: readonly KeyValue[];
  /** Relation keys whose whole answer is `rows`: cached rows under them that are not in `rows` are dropped. */
  readonly relation?: { readonly rel: CompiledRelation; readonly keys: readonly KeyValue[] };
}

/**
 * The local cache in front of the origin, with its ever-loaded record of complete lookups.
 * The core knows only this interface; `sqliteCache` implements it.
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
  readEntities(entity: CompiledEntity, keys: readonly KeyValue[]): Promise<EntityRead>;
  /** One statement: the rows of every key of `rel` recorded complete. */
  readRelation(rel: CompiledRelation, keys: readonly KeyValue[]): Promise<RelationRead>;
  /** Writes one origin answer, rows and marks, in one transaction. */
  merge(batch: MergeBatch): Promise<void>;
}
