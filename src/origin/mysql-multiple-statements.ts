// Whether a mysql2 connection may run several statements in one query: pool options that rule it out or in, and the test of a pool or connection.

import type mysql from 'mysql2';

/** CLIENT_MULTI_STATEMENTS, the capability a client asks for at connect time. */
const MULTI_STATEMENTS = 0x10000;

/**
 * `options` whose connections take one statement per query, whatever asked for more: `multipleStatements`
 * in the options or in the URL's query (`?multipleStatements=true`), or `MULTI_STATEMENTS` in `flags` (an
 * option or `?flags=` in the URL). mysql2 lets a URL parameter win over a false option, so the parameters
 * are taken out of the URL, and the flag is listed as refused (`-MULTI_STATEMENTS`).
 */
export function singleStatementOptions(options: mysql.PoolOptions): mysql.PoolOptions {
  const { uri, flags } = withoutStatementFlags(options);
  return { ...options, ...(uri === undefined ? {} : { uri }), multipleStatements: false, flags: [...flags, '-MULTI_STATEMENTS'] };
}

/** `options` (made by {@link singleStatementOptions} or not) for connections that take several statements. */
export function multipleStatementOptions(options: mysql.PoolOptions): mysql.PoolOptions {
  const { uri, flags } = withoutStatementFlags(options);
  return { ...options, ...(uri === undefined ? {} : { uri }), multipleStatements: true, flags };
}

/**
 * Whether connections of `target` (a mysql2 pool, promise pool or connection) ask the server for several
 * statements per query, from the flags mysql2 computed for them; undefined when it cannot be told.
 */
export function takesMultipleStatements(target: unknown): boolean | undefined {
  type Config = { clientFlags?: unknown; multipleStatements?: unknown; connectionConfig?: Config };
  const inner = target as { config?: Config; pool?: { config?: Config }; connection?: { config?: Config } } | null;
  const config = inner?.config ?? inner?.pool?.config ?? inner?.connection?.config;
  const connection = config?.connectionConfig ?? config;
  if (connection === undefined || typeof connection.clientFlags !== 'number') return undefined;
  return (connection.clientFlags & MULTI_STATEMENTS) !== 0 || connection.multipleStatements === true;
}

/** The URL without its statement parameters, and the flags asked for (from the options, else the URL) less the statement flag. */
function withoutStatementFlags(options: mysql.PoolOptions): { uri: string | undefined; flags: string[] } {
  let flags: unknown = options.flags;
  let uri = options.uri;
  if (uri !== undefined) {
    const url = new URL(uri);
    const fromUrl = url.searchParams.get('flags');
    if (url.searchParams.has('multipleStatements') || fromUrl !== null) {
      // As mysql2 reads it: a JSON value, else the text; an option that is set wins over the URL.
      if (!flags && fromUrl !== null) {
        try {
          flags = JSON.parse(fromUrl);
        } catch {
          flags = fromUrl;
        }
      }
      url.searchParams.delete('multipleStatements');
      url.searchParams.delete('flags');
      uri = url.toString();
    }
  }
  const list = Array.isArray(flags) ? flags.map(String) : String(flags ?? '').toUpperCase().split(/\s*,+\s*/);
  return { uri, flags: list.filter((f) => f !== '' && !/^-?MULTI_STATEMENTS$/i.test(f.trim())) };
}
