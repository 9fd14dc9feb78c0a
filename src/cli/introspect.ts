import { writeFileSync } from 'node:fs';
import type { Command } from './command.js';
import { stringOption } from './command.js';
import { ExitCode } from './exit-codes.js';
import { generateSchema, renderSchema } from './generate-schema.js';
import { originFromUrl } from './origin-url.js';
import { readInformationSchema } from './read-information-schema.js';
import { UsageError } from './usage-error.js';

export const introspect: Command = {
  name: 'introspect',
  summary: "print a schema module generated from a MySQL/MariaDB origin's tables",
  usage: '--origin URL [--out FILE]',
  description: [
    "Reads the origin database's information_schema and prints a schema module, importable as it is",
    "(`export const schema = defineSchema({...})`, valid TypeScript and JavaScript): one entity per table",
    'with a primary key (composite keys included), columns typed integer, bigint, real, decimal, text,',
    "boolean (tinyint(1)), datetime, json, blob ('?' when nullable), and per foreign key a belongsTo on the",
    'child, named after the column (author_id → author, ReportsTo → reportsTo), and on the parent a hasMany',
    'named in the plural (albums, invoiceLines), or a hasOne when the foreign key is unique; a child with',
    'several foreign keys to one parent, or referencing itself, adds the column (employeesByReportsTo). A',
    'pure join table (two columns, both its primary key, each a foreign key) is no entity but a manyToMany',
    'on both sides (playlist.tracks, track.playlists). What cannot be expressed is left out with a note at',
    'the top of the module. Rename relations at will: the names are guesses.',
  ].join('\n'),
  options: {
    origin: { type: 'string', value: 'URL', description: 'the origin, mysql://user:password@host:port/database', required: true },
    out: { type: 'string', value: 'FILE', description: 'write the module to FILE instead of stdout' },
  },
  async run(values) {
    const url = stringOption(values, 'origin') as string;
    if (!/^(mysql|mariadb):\/\//.test(url)) throw new UsageError('--origin: introspect reads MySQL/MariaDB origins (mysql://user:password@host:port/database)');
    const origin = originFromUrl(url);
    await origin.open();
    let tables;
    try {
      tables = await readInformationSchema(origin);
    } finally {
      await origin.close();
    }
    const module = renderSchema(generateSchema(tables), origin.description);
    const out = stringOption(values, 'out');
    if (out === undefined) process.stdout.write(module);
    else writeFileSync(out, module);
    return ExitCode.OK;
  },
};
