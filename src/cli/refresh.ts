import { existsSync } from 'node:fs';
import { Mode } from '../core/mode.js';
import { openStore } from '../create-store.js';
import { cacheOption, driverOption, DRIVER_OPTION } from './cache-option.js';
import { stringOption, type Command } from './command.js';
import { ExitCode } from './exit-codes.js';
import { loadSchema } from './load-schema.js';
import { originFromUrl } from './origin-url.js';
import { Progress } from './progress.js';
import { formatStoreSummary, storeSummary } from './store-summary.js';
import { UsageError } from './usage-error.js';

export const refresh: Command = {
  name: 'refresh',
  summary: 're-read from the origin every lookup a cache holds complete',
  usage: '--schema FILE --origin URL --cache FILE [--driver DRIVER] [--json]',
  description: [
    'Runs store.refreshAll(): every entity, relation and custom query lookup the cache records complete,',
    'and every whole table read by X.all(), is read again from the origin, in batches, and the cache',
    'corrected (changed rows, rows gone), so it is fresh before going offline. Progress goes to stderr; a',
    'summary to stdout.',
  ].join('\n'),
  options: {
    schema: { type: 'string', value: 'FILE', description: 'the schema module (a .js/.mjs file)', required: true },
    origin: { type: 'string', value: 'URL', description: 'the origin: mysql://user:password@host:port/database, or sqlite:FILE', required: true },
    cache: { type: 'string', value: 'FILE', description: 'the cache file', required: true },
    driver: DRIVER_OPTION,
    json: { type: 'boolean', description: 'print the summary as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress' },
  },
  async run(values) {
    const schema = await loadSchema(stringOption(values, 'schema') as string);
    const origin = originFromUrl(stringOption(values, 'origin') as string);
    const file = stringOption(values, 'cache') as string;
    if (!existsSync(file)) throw new UsageError(`no such cache file: ${file}`);
    driverOption(values);
    const t0 = performance.now();
    const progress = new Progress('refresh', { quiet: values.quiet === true });
    await using store = await openStore(schema, { origin, cache: cacheOption(values, file), mode: Mode.FRESHEN, cacheWrites: 'before-answer' });
    const { lookups } = await store.refreshAll({ onProgress: ({ kind, done, total }) => progress.update(done, total, kind) });
    progress.end();
    const summary = { cache: file, refreshed: lookups, ...storeSummary(store.stats, performance.now() - t0) };
    if (values.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write([`refreshed ${lookups} lookups of ${file} from ${origin.description}`, ...formatStoreSummary(summary), ''].join('\n'));
    return ExitCode.OK;
  },
};
