// Column types: what a schema may declare, what each is read as, and a column once compiled.

/** The column types a schema may declare. */
export type ColumnType = 'integer' | 'bigint' | 'real' | 'decimal' | 'text' | 'boolean' | 'datetime' | 'json' | 'blob';

/** A column declaration: a type, or the type with a trailing `?` when the column may be NULL. */
export type ColumnSpec = ColumnType | `${ColumnType}?`;

/** A JSON value, as a `json` column holds it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The JavaScript type a column type is read as. */
export interface ColumnTypes {
  integer: number;
  bigint: bigint;
  real: number;
  /** Exact decimal, as a string (e.g. `"12.50"`). */
  decimal: string;
  text: string;
  boolean: boolean;
  datetime: Date;
  json: JsonValue;
  blob: Buffer;
}

/** The JavaScript value type of a column declaration. */
export type ColumnValue<C> = C extends `${infer T extends ColumnType}?`
  ? ColumnTypes[T] | null
  : C extends ColumnType
    ? ColumnTypes[C]
    : never;

/** @internal A declared column, checked.*/
export interface CompiledColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}
