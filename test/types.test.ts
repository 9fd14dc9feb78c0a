/**
 * Compile-time checks of the public types. This file is compiled by `tsc -p tsconfig.test.json` with the
 * rest of the tests: a wrong positive check, or an `@ts-expect-error` line that no longer errors, fails
 * the build and so `npm test`. The functions holding the checks are never called; the runtime tests at
 * the end check what can be checked at runtime.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import {
  belongsTo, defineSchema, entity, hasMany, hasOne, Mode, NotFoundError, openStore,
  type ColumnValue, type EntityOf, type JsonValue, type KeyOf, type Schema, type View,
} from 'asyncdbview';

/** True when X and Y are the same type (not merely mutually assignable). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
/** Compiles only when given `true`. */
function expectTrue<T extends true>(_proof?: T): void {}
/** Compiles only when the value's type is exactly T. */
function expectType<T>() {
  return <V>(_value: V & ([Equal<V, T>] extends [true] ? unknown : { __expected: T; __got: V })): void => undefined;
}

const schema = defineSchema({
  A: entity({
    table: 'a', key: 'id',
    columns: { id: 'integer', name: 'text' },
    relations: { bs: hasMany('B', 'a_id'), b: hasOne('B', 'a_id'), cs: hasMany('C', 'a_id') },
  }),
  B: entity({
    table: 'b', key: 'id',
    columns: { id: 'integer', name: 'text', a_id: 'integer' },
    relations: { a: belongsTo('A', 'a_id', { mode: Mode.PREFER_CACHE }) },
  }),
  C: entity({
    table: 'c', key: 'id',
    columns: { id: 'integer', a_id: 'integer?' },
    relations: { a: belongsTo('A', 'a_id') },
  }),
  K: entity({ table: 'k', key: 'code', columns: { code: 'text' }, relations: {} }),
  T: entity({
    table: 't', key: 'id',
    columns: {
      id: 'bigint', i: 'integer', bi: 'bigint', r: 'real', d: 'decimal', t: 'text', bo: 'boolean', dt: 'datetime', j: 'json', bl: 'blob',
      ni: 'integer?', nbi: 'bigint?', nr: 'real?', nd: 'decimal?', nt: 'text?', nbo: 'boolean?', ndt: 'datetime?', nj: 'json?', nbl: 'blob?',
    },
    relations: {},
  }),
});
type S = typeof schema.entities;
type A = EntityOf<S, 'A'>;
type B = EntityOf<S, 'B'>;
type C = EntityOf<S, 'C'>;

/** Local changes and whole tables: typed from the schema. */
export async function localChangeChecks(view: View<S>): Promise<void> {
  expectType<A>()(await view.A.put({ id: 9, name: 'nine' }));
  expectType<C>()(await view.C.put({ id: 9 })); // a nullable column may be left out
  expectType<B>()(await view.B.patch(1, { name: 'renamed', a_id: 2 }));
  expectType<C>()(await view.C.patch(1, { a_id: null }));
  expectTrue<Equal<Awaited<ReturnType<typeof view.B.remove>>, void>>();
  expectType<readonly A[]>()(await view.A.all());
  // @ts-expect-error -- a whole row: name is missing
  await view.A.put({ id: 9 });
  // @ts-expect-error -- a column of the wrong type
  await view.A.put({ id: 9, name: 9 });
  // @ts-expect-error -- no such column
  await view.B.patch(1, { nope: 1 });
  // @ts-expect-error -- the key is not patched
  await view.B.patch(1, { id: 2 });
  // @ts-expect-error -- a non-nullable column cannot be null
  await view.B.patch(1, { name: null });
  // @ts-expect-error -- a key of the wrong type
  await view.B.remove('1');
}

/** Positive checks: what a view hands out has the documented types. */
export async function positiveChecks(view: View<S>): Promise<void> {
  const a1 = await view.A(1);
  expectType<A>()(a1);
  expectType<number>()(a1.id);
  expectType<string>()(a1.name);
  expectTrue<Equal<typeof a1.name, string>>();
  expectTrue<Equal<typeof a1.bs, Promise<readonly B[]>>>();
  expectTrue<Equal<typeof a1.b, Promise<B | null>>>();
  expectTrue<Equal<typeof a1.cs, Promise<readonly C[]>>>();
  const bs = await a1.bs;
  expectType<readonly B[]>()(bs);
  const b = bs[0];
  if (b !== undefined) {
    expectTrue<Equal<typeof b.a, Promise<A>>>();
    expectType<A>()(await b.a);
    expectType<number>()(b.a_id);
  }
  const c = await view.C(1);
  expectType<C>()(c);
  expectTrue<Equal<typeof c.a_id, number | null>>();
  expectTrue<Equal<typeof c.a, Promise<A | null>>>();
  const one = await a1.b;
  expectType<B | null>()(one);

  const t = await view.T(1n);
  expectType<EntityOf<S, 'T'>>()(t);
  expectTrue<Equal<typeof t.id, bigint>>();
  expectTrue<Equal<typeof t.i, number>>();
  expectTrue<Equal<typeof t.bi, bigint>>();
  expectTrue<Equal<typeof t.r, number>>();
  expectTrue<Equal<typeof t.d, string>>();
  expectTrue<Equal<typeof t.t, string>>();
  expectTrue<Equal<typeof t.bo, boolean>>();
  expectTrue<Equal<typeof t.dt, Date>>();
  expectTrue<Equal<typeof t.j, JsonValue>>();
  expectTrue<Equal<typeof t.bl, Buffer>>();
  expectTrue<Equal<typeof t.ni, number | null>>();
  expectTrue<Equal<typeof t.nbi, bigint | null>>();
  expectTrue<Equal<typeof t.nr, number | null>>();
  expectTrue<Equal<typeof t.nd, string | null>>();
  expectTrue<Equal<typeof t.nt, string | null>>();
  expectTrue<Equal<typeof t.nbo, boolean | null>>();
  expectTrue<Equal<typeof t.ndt, Date | null>>();
  expectTrue<Equal<typeof t.nj, JsonValue | null>>();
  expectTrue<Equal<typeof t.nbl, Buffer | null>>();

  // ColumnValue and KeyOf directly.
  expectTrue<Equal<ColumnValue<'bigint'>, bigint>>();
  expectTrue<Equal<ColumnValue<'decimal'>, string>>();
  expectTrue<Equal<ColumnValue<'datetime?'>, Date | null>>();
  expectTrue<Equal<ColumnValue<'blob'>, Buffer>>();
  expectTrue<Equal<ColumnValue<'boolean'>, boolean>>();
  expectTrue<Equal<KeyOf<S, 'A'>, number>>();
  expectTrue<Equal<KeyOf<S, 'T'>, bigint>>();
  expectTrue<Equal<KeyOf<S, 'K'>, string>>();
  expectTrue<Equal<Parameters<View<S>['A']>[0], number>>();
  expectTrue<Equal<ReturnType<View<S>['K']>, Promise<EntityOf<S, 'K'>>>>();

  // Columns are readonly.
  // @ts-expect-error -- columns cannot be assigned
  a1.name = 'x';

  // The Equal helper itself rejects near misses, so the checks above mean something.
  // @ts-expect-error -- string | null is not string
  expectTrue<Equal<typeof t.nt, string>>();
  // @ts-expect-error -- Promise<A> is not Promise<A | null>
  expectTrue<Equal<typeof c.a, Promise<A>>>();
  // @ts-expect-error -- a hasMany is readonly
  expectTrue<Equal<typeof a1.bs, Promise<B[]>>>();
  // @ts-expect-error -- expectType rejects a number where a string is expected
  expectType<string>()(a1.id);
}

/** Negative checks: each line below the directive must be a compile error. */
export async function negativeChecks(view: View<S>): Promise<void> {
  // @ts-expect-error -- unknown entity on a view
  await view.Nope(1);
  const a = await view.A(1);
  // @ts-expect-error -- unknown column
  void a.nope;
  // @ts-expect-error -- unknown relation
  void a.nopes;
  const b = await view.B(1);
  // @ts-expect-error -- a relation of another entity
  void b.bs;
  // @ts-expect-error -- wrong key type: A's key is an integer
  await view.A('x');
  // @ts-expect-error -- wrong key type: K's key is text
  await view.K(1);
  // @ts-expect-error -- a key is required
  await view.A();
  // @ts-expect-error -- null is not a key
  await view.A(null);
}

/** Schema mistakes that defineSchema rejects at compile time (each is also a SchemaError at runtime). */
export function schemaChecks(): void {
  // @ts-expect-error -- relation target not in the schema
  defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: { bs: hasMany('Nope', 'a_id') } }) });

  // @ts-expect-error -- hasMany foreign key column not in the target
  defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: { bs: hasMany('B', 'nope') } }), B: entity({ table: 'b', key: 'id', columns: { id: 'integer', a_id: 'integer' }, relations: {} }) });

  // @ts-expect-error -- hasOne foreign key column not in the target
  defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: { b: hasOne('B', 'nope') } }), B: entity({ table: 'b', key: 'id', columns: { id: 'integer', a_id: 'integer' }, relations: {} }) });

  // @ts-expect-error -- belongsTo foreign key column not in the source
  defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: {} }), B: entity({ table: 'b', key: 'id', columns: { id: 'integer' }, relations: { a: belongsTo('A', 'a_id') } }) });

  // @ts-expect-error -- key column not among the columns
  entity({ table: 'a', key: 'nope', columns: { id: 'integer' } });

  // @ts-expect-error -- unknown column type
  entity({ table: 'a', key: 'id', columns: { id: 'integer', x: 'varchar' } });
}

/** Root of the package (build/test/ → ../..), where `asyncdbview` resolves to dist/ by self-reference. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Snippets type-checked at runtime, for checks that must not break the build of the whole suite when they fail. */
const PROBES = {
  /** Control: must report exactly one error. */
  controlError: `import { entity } from 'asyncdbview';\nexport const e = entity({ table: 'a', key: 'nope', columns: { id: 'integer' } });\n`,
  /** Control: must compile. */
  controlOk:
    `import { defineSchema, entity } from 'asyncdbview';\n` +
    `export const s = defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: {} }) });\n`,
  /** The defineSchema doc example: entities declared without `relations`. */
  noRelations:
    `import { defineSchema, entity, hasMany } from 'asyncdbview';\n` +
    `export const s1 = defineSchema({ A: entity({ table: 'a', key: 'id', columns: { id: 'integer' } }) });\n` +
    `export const s2 = defineSchema({\n` +
    `  A: entity({ table: 'a', key: 'id', columns: { id: 'integer' }, relations: { bs: hasMany('B', 'a_id') } }),\n` +
    `  B: entity({ table: 'b', key: 'id', columns: { id: 'integer', a_id: 'integer' } }),\n` +
    `});\n`,
};

let probed: Record<keyof typeof PROBES, string[]> | undefined;

/**
 * Type-checks every probe as if it were a file in test/, with the test tsconfig, in one program, and
 * returns the error messages of each. Without @types/node (`types: []`), for speed: the probes use no
 * Node API, and skipLibCheck keeps dist's declarations from reporting the missing `Buffer`.
 */
function typeErrors(name: keyof typeof PROBES): string[] {
  if (probed === undefined) {
    const configPath = join(ROOT, 'tsconfig.test.json');
    const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, { noEmit: true, types: [] }, configPath);
    const files = new Map(Object.entries(PROBES).map(([n, src]) => [join(ROOT, 'test', `__types_probe_${n}__.ts`), src]));
    const host = ts.createCompilerHost(parsed.options);
    const { getSourceFile, fileExists, readFile } = host;
    host.getSourceFile = (file, lang, ...rest) => {
      const src = files.get(file);
      return src !== undefined ? ts.createSourceFile(file, src, lang) : getSourceFile.call(host, file, lang, ...rest);
    };
    host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
    host.readFile = (file) => files.get(file) ?? readFile.call(host, file);
    const program = ts.createProgram({ rootNames: [...files.keys()], options: parsed.options, host });
    const out: Partial<Record<keyof typeof PROBES, string[]>> = {};
    for (const [file] of files) {
      const n = Object.keys(PROBES).find((k) => file.endsWith(`__types_probe_${k}__.ts`)) as keyof typeof PROBES;
      out[n] = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    }
    probed = out as Record<keyof typeof PROBES, string[]>;
  }
  return probed[name];
}

describe('types', () => {
  it('defineSchema returns the schema it was given, compiled', () => {
    const s: Schema<S> = schema;
    assert.deepEqual(Object.keys(s.entities), ['A', 'B', 'C', 'K', 'T']);
    assert.equal(s.entities.A.table, 'a');
    assert.equal(s.entities.A.key, 'id');
    assert.deepEqual(s.entities.T.columns.dt, 'datetime');
    assert.equal(s.entities.A.relations.bs.kind, 'hasMany');
    assert.equal(s.entities.A.relations.bs.target, 'B');
    assert.equal(s.entities.C.relations.a.foreignKey, 'a_id');
    assert.equal(typeof positiveChecks, 'function');
    assert.equal(typeof negativeChecks, 'function');
    assert.equal(typeof schemaChecks, 'function');
  });

  it('a view built from the typed schema has one accessor per entity at runtime', async () => {
    await using store = await openStore(schema, { origin: null });
    await using view = store.view();
    for (const name of ['A', 'B', 'C', 'K', 'T'] as const) assert.equal(typeof view[name], 'function');
    assert.equal((view as unknown as Record<string, unknown>).Nope, undefined);
    // No origin: the cache is empty and offline, so a lookup is not found/offline, never a TypeError.
    await assert.rejects(view.A(1), (e: unknown) => e instanceof Error && !(e instanceof TypeError) && !(e instanceof NotFoundError));
  });

  it('the type-check harness reports errors (control)', () => {
    const errors = typeErrors('controlError');
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.deepEqual(typeErrors('controlOk'), []);
  });

  it('an entity declared without relations can go in a schema (the defineSchema doc example compiles)', () => {
    assert.deepEqual(typeErrors('noRelations'), []);
  });
});
