// `asyncdbview changes`: lists the local changes kept in a cache file (with conflicts), prints them as SQL, or drops them.
import { existsSync } from 'node:fs';
import { Mode } from '../core/mode.js';
import { describe } from '../core/values.js';
import { openStore } from '../create-store.js';
import { sqliteCache } from '../cache/sqlite/index.js';
import { stringOption, type Command } from './command.js';
import { ExitCode } from './exit-codes.js';
import { loadSchema } from './load-schema.js';
import { schemaFromCache } from './schema-from-cache.js';
import { UsageError } from './usage-error.js';

export const changes: Command = {
  name: 'changes',
  summary: 'list the local changes kept in a cache file (with conflicts), print them as SQL, or drop them',
  usage: 'CACHE_FILE [--schema FILE] [--sql | --discard] [--json]',
  description: [
    'Opens the cache offline (no origin) and lists its local changes (view.X.put, patch, remove): entity,',
    'key, kind, and whether a later load brought an origin row that differs from the one the change was',
    'made against (conflict: changed, even to the local value, deleted, or created). --sql prints them as',
    "INSERT/UPDATE/DELETE statements for the origin's tables (MySQL), for someone who may write it; nothing",
    'is sent. --discard drops them all. The schema is read from the cache file (the tables and relations it',
    'was last opened with); --schema gives the schema module instead. The cache file may also be given as',
    '--cache FILE.',
  ].join('\n'),
  positional: { name: 'CACHE_FILE', option: 'cache' },
  options: {
    cache: { type: 'string', value: 'FILE', description: 'the cache file (the same as giving CACHE_FILE)' },
    schema: { type: 'string', value: 'FILE', description: 'the schema module (a .js/.mjs file); default: read from the cache file' },
    sql: { type: 'boolean', description: 'print the changes as SQL statements' },
    discard: { type: 'boolean', description: 'drop every local change' },
    json: { type: 'boolean', description: 'print the list as JSON' },
  },
  async run(values) {
    if (values.sql === true && values.discard === true) throw new UsageError('--sql and --discard cannot be combined');
    const file = stringOption(values, 'cache') as string;
    if (!existsSync(file)) throw new UsageError(`no such cache file: ${file}`);
    const schemaFile = stringOption(values, 'schema');
    const schema = schemaFile === undefined ? await schemaFromCache(file) : await loadSchema(schemaFile);
    await using store = await openStore(schema, { origin: null, cache: sqliteCache(file), mode: Mode.OFFLINE });
    if (values.discard === true) {
      const n = await store.discardLocalChanges();
      process.stdout.write(`discarded ${n} local change${n === 1 ? '' : 's'} in ${file}\n`);
      return ExitCode.OK;
    }
    if (values.sql === true) {
      const statements = await store.localChanges({ sql: true });
      process.stdout.write(statements.map((s) => `${s}\n`).join(''));
      return ExitCode.OK;
    }
    const list = await store.localChanges();
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(list, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}\n`);
      return ExitCode.OK;
    }
    const conflicts = list.filter((c) => c.conflict).length;
    const lines = list.map((c) => `  ${c.kind.padEnd(6)} ${c.entity} ${describe(c.key)}${c.columns === undefined ? '' : ` (${c.columns.join(', ')})`}${c.conflict ? (c.origin === null ? '  CONFLICT: deleted at the origin since' : '  CONFLICT: the origin row changed since') : ''}`);
    process.stdout.write([`${list.length} local change${list.length === 1 ? '' : 's'} in ${file}${conflicts > 0 ? `, ${conflicts} in conflict` : ''}`, ...lines, ''].join('\n'));
    return ExitCode.OK;
  },
};
