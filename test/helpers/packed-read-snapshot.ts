// The packed-read test's schema and its offline answers, importable by a child process that reads the same cache file.
import { belongsTo, defineSchema, entity, hasMany, manyToMany, Mode, mysqlOrigin, openStore, sqliteCache, type SqliteDriver } from 'asyncdbview';

// No REAL, no BLOB: every read of these entities is packed.
export const schema = defineSchema({
  P: entity({ table: 'p', key: 'id', columns: { id: 'integer', label: 'text' }, relations: { vs: hasMany('V', 'p_id'), tags: manyToMany('T', { through: 'p_t', sourceKey: 'p_id', targetKey: 't_id' }) } }),
  V: entity({
    table: 'v', key: 'id',
    columns: { id: 'integer', p_id: 'integer', t: 'text?', big: 'bigint?', dec: 'decimal?', flag: 'boolean?', at: 'datetime?', doc: 'json?', n: 'integer?' },
    relations: { p: belongsTo('P', 'p_id') },
  }),
  T: entity({ table: 't', key: 'code', columns: { code: 'bigint', name: 'text' }, relations: {} }),
});

/** Every value of entity and relation lookups of `ids`, as the store answers them (origin: the MySQL URL, or none for OFFLINE). */
export async function snapshot(file: string, driver: SqliteDriver, mode: Mode, originUrl: string | null, ids: readonly number[]) {
  await using store = await openStore(schema, { origin: originUrl === null ? null : mysqlOrigin(originUrl), cache: sqliteCache(file, { driver }), mode });
  await using view = store.view();
  const vs = await view.V.many(ids);
  const ps = await view.P.many([1, 2, 3, 4]);
  const groups = await Promise.all(ps.map((p) => p.vs));
  const tags = await Promise.all(ps.map((p) => p.tags));
  const out = {
    vs: vs.map((v) => ({ id: v.id, p_id: v.p_id, t: v.t, big: v.big, dec: v.dec, flag: v.flag, at: v.at === null ? null : v.at.toISOString(), doc: v.doc, n: v.n })),
    groups: groups.map((g) => g.map((v) => [v.id, v.t])),
    tags: tags.map((g) => g.map((t) => [t.code, t.name])),
    parents: await Promise.all(vs.map(async (v) => (await v.p).label)),
  };
  if (originUrl !== null) await store.flush();
  return out;
}

/** `value` as JSON text, bigints written as `"<digits>n"` (JSON has none). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}
