// `asyncdbview verify`: checks a cache file offline (every mark backed by its rows, the file intact), optionally repairing it.
import { existsSync } from 'node:fs';
import { Mode } from '../core/mode.js';
import { openStore } from '../create-store.js';
import { cacheOption, driverOption, DRIVER_OPTION } from './cache-option.js';
import { stringOption, type Command } from './command.js';
import { ExitCode } from './exit-codes.js';
import { loadSchema } from './load-schema.js';
import { UsageError } from './usage-error.js';

export const verify: Command = {
  name: 'verify',
  summary: 'check a cache file: every completeness mark backed by its rows, and the file intact',
  usage: '--cache FILE --schema FILE [--repair] [--driver DRIVER] [--json]',
  description: [
    'Opens the cache offline (no origin) with the schema and runs store.verify(): every lookup the file',
    "records complete must be backed by the rows it stands for, and SQLite's quick_check must pass.",
    'Prints the problems found, and exits 1 when there are any. With --repair, drops every mark not',
    'backed by its rows (those lookups go to the origin again) and exits 0 if that mended every problem',
    '(a damaged file stays a problem). Opening the file with a schema that changed since it was written',
    'drops the changed tables, as any store does.',
  ].join('\n'),
  options: {
    cache: { type: 'string', value: 'FILE', description: 'the cache file', required: true },
    schema: { type: 'string', value: 'FILE', description: 'the schema module (a .js/.mjs file)', required: true },
    repair: { type: 'boolean', description: 'drop every mark not backed by its rows' },
    driver: DRIVER_OPTION,
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  async run(values) {
    driverOption(values); // a bad --driver is a usage error before anything is opened
    const schema = await loadSchema(stringOption(values, 'schema') as string);
    const file = stringOption(values, 'cache') as string;
    if (!existsSync(file)) throw new UsageError(`no such cache file: ${file}`);
    await using store = await openStore(schema, { origin: null, cache: cacheOption(values, file), mode: Mode.OFFLINE });
    const report = await store.verify({ repair: values.repair === true });
    if (values.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const rows = Object.entries(report.rows).map(([e, n]) => `${e} ${n}`).join(', ');
      const found = `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${file}`;
      const head = report.problems.length === 0 ? `ok: ${file}` : values.repair === true ? `${found}; ${report.repaired} mark${report.repaired === 1 ? '' : 's'} dropped${report.ok ? ', now ok' : ''}:` : `${found}:`;
      process.stdout.write([head, ...report.problems.map((p) => `  ${p}`), `  ${report.marks} marks checked; rows: ${rows || 'none'}`, ''].join('\n'));
    }
    return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
  },
};
