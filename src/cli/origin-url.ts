import { existsSync } from 'node:fs';
import type { Origin } from '../core/origin.js';
import { mysqlOrigin } from '../origin/mysql.js';
import { sqliteOrigin } from '../origin/sqlite.js';
import { UsageError } from './usage-error.js';

/** The origin an `--origin` URL names: `mysql://user:password@host:port/database`, or `sqlite:FILE`. */
export function originFromUrl(url: string): Origin {
  if (/^(mysql|mariadb):\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--origin: not a URL: ${JSON.stringify(url)}; expected mysql://user:password@host:port/database`);
    }
    if (parsed.pathname.replace(/^\//, '') === '') throw new UsageError(`--origin: the URL names no database; expected mysql://user:password@host:port/database`);
    return mysqlOrigin(url);
  }
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!existsSync(file)) throw new UsageError(`--origin: no such SQLite file: ${file}`);
    return sqliteOrigin(file);
  }
  throw new UsageError(`--origin: expected mysql://user:password@host:port/database or sqlite:FILE, got ${JSON.stringify(url)}`);
}

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
}
