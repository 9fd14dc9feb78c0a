// The validated, indexed form of a schema that the store works from.
import type { Mode } from '../mode.js';
import type { CompiledColumn } from './columns.js';
import type { RelationKind } from './define.js';
import type { CompiledKey } from './key.js';

export type { CompiledKey } from './key.js';
export type { CompiledColumn } from './columns.js';

/** @internal The validated, indexed form of a schema that the store works from. */
export interface CompiledSchema {
  readonly entities: readonly CompiledEntity[];
  readonly byName: ReadonlyMap<string, CompiledEntity>;
  readonly relations: readonly CompiledRelation[];
}


/** @internal */
export interface CompiledEntity {
  readonly name: string;
  readonly index: number;
  readonly table: string;
  readonly key: CompiledKey;
  readonly columns: readonly CompiledColumn[];
  readonly columnByName: ReadonlyMap<string, CompiledColumn>;
  readonly relations: readonly CompiledRelation[];
  /** hasMany/hasOne relations that read this entity's table by a foreign key: their marks depend on its rows. */
  readonly dependents: readonly CompiledRelation[];
  /** manyToMany relations whose targets are this entity's rows. */
  readonly linkedBy: readonly CompiledRelation[];
  readonly maxAge: number | undefined;
}

/** @internal A join table of a manyToMany relation. */
export interface CompiledThrough {
  readonly table: string;
  readonly sourceKey: CompiledColumn;
  readonly targetKey: CompiledColumn;
}


/** @internal */
export interface CompiledRelation {
  readonly id: string;
  readonly index: number;
  readonly name: string;
  readonly kind: RelationKind;
  readonly source: CompiledEntity;
  readonly target: CompiledEntity;
  /** belongsTo: source columns; hasMany/hasOne: target columns; manyToMany: the join table's source column. */
  readonly foreignKey: CompiledKey;
  readonly orderBy: readonly CompiledColumn[];
  /**
   * The order of a batch of this relation's rows: its group key, then `orderBy`. Rows so sorted split
   * into groups already in order, and both databases return them so (no sort in the usual case).
   */
  readonly batchOrder: readonly CompiledColumn[];
  readonly mode: Mode | undefined;
  readonly hasFallback: boolean;
  readonly offlineFallback: unknown;
  readonly maxAge: number | undefined;
  /** manyToMany only. */
  readonly through: CompiledThrough | undefined;
}

