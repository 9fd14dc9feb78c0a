import { stringOption, type Command } from './command.js';
import { ExitCode } from './exit-codes.js';
import { formatAge, formatBytes, table } from './format-units.js';
import { loadSchema } from './load-schema.js';
import { readCacheFile, type Completeness } from './read-cache-file.js';

const when = (at: number | null): string => (at === null ? '-' : `${new Date(at).toISOString().replace(/\.\d+Z$/, 'Z')} (${formatAge(at)})`);
const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());
const ages = (c: Completeness) => ({ complete: c.complete, oldest: iso(c.oldest), newest: iso(c.newest) });

export const stats: Command = {
  name: 'stats',
  summary: 'show what a cache file holds: complete lookups, their ages, rows, size',
  usage: '--cache FILE [--schema FILE] [--json]',
  description: [
    'Reads the cache file directly (read-only; no schema needed) and shows, per entity, relation and',
    'custom query, how many lookups it holds complete, when the oldest and newest of them were loaded,',
    "and the rows held; then the file's size. With --schema, entities and relations of the schema the",
    'file has nothing of are listed too, and what the file holds that the schema lacks is marked.',
  ].join('\n'),
  options: {
    cache: { type: 'string', value: 'FILE', description: 'the cache file', required: true },
    schema: { type: 'string', value: 'FILE', description: 'the schema module, to compare with' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  async run(values) {
    const contents = await readCacheFile(stringOption(values, 'cache') as string);
    const schemaFile = stringOption(values, 'schema');
    const entities = contents.entities.map((e) => ({ ...e, inSchema: true }));
    const relations = contents.relations.map((r) => ({ ...r, inSchema: true }));
    if (schemaFile !== undefined) {
      const schema = await loadSchema(schemaFile);
      const names = new Set(schema.compiled.entities.map((e) => e.name));
      const rels = new Set(schema.compiled.relations.filter((r) => r.kind !== 'belongsTo').map((r) => r.id));
      for (const e of entities) e.inSchema = names.has(e.name);
      for (const r of relations) r.inSchema = rels.has(r.name);
      for (const e of schema.compiled.entities) {
        if (!entities.some((x) => x.name === e.name)) entities.push({ name: e.name, table: e.table, rows: null, complete: 0, oldest: null, newest: null, inSchema: true });
      }
      for (const id of rels) if (!relations.some((x) => x.name === id)) relations.push({ name: id, complete: 0, oldest: null, newest: null, inSchema: true });
    }
    if (values.json === true) {
      const out = {
        file: contents.file,
        bytes: contents.bytes,
        walBytes: contents.walBytes,
        entities: entities.map((e) => ({ name: e.name, table: e.table, rows: e.rows, ...ages(e), ...(schemaFile === undefined ? {} : { inSchema: e.inSchema }) })),
        relations: relations.map((r) => ({ name: r.name, ...ages(r), ...(schemaFile === undefined ? {} : { inSchema: r.inSchema }) })),
        queries: contents.queries.map((q) => ({ tag: q.tag, entity: q.entity, rows: q.rows, ...ages(q) })),
        otherKinds: contents.otherKinds,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return ExitCode.OK;
    }
    const mark = (inSchema: boolean) => (inSchema ? '' : ' (not in schema)');
    const lines = [`${contents.file}: ${formatBytes(contents.bytes)}${contents.walBytes > 0 ? ` (+ ${formatBytes(contents.walBytes)} write-ahead log)` : ''}`, ''];
    lines.push(table(['entity', 'rows', 'complete', 'oldest', 'newest'], entities.map((e) => [`${e.name}${mark(e.inSchema)}`, e.rows ?? '-', e.complete, when(e.oldest), when(e.newest)])));
    if (relations.length > 0) {
      lines.push('', table(['relation', 'complete', 'oldest', 'newest'], relations.map((r) => [`${r.name}${mark(r.inSchema)}`, r.complete, when(r.oldest), when(r.newest)])));
    }
    if (contents.queries.length > 0) {
      lines.push('', table(['query', 'entity', 'answers', 'rows', 'oldest', 'newest'], contents.queries.map((q) => [q.tag, q.entity ?? '-', q.complete, q.rows, when(q.oldest), when(q.newest)])));
    }
    if (contents.otherKinds.length > 0) lines.push('', `marks of unknown kinds: ${contents.otherKinds.join(', ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return ExitCode.OK;
  },
};
