/**
 * `npm run test:select-only`: runs every behaviour test file with the library connecting as a MariaDB user
 * granted only SELECT (on the tests' own databases, adbv_t_*), so nothing in the library relies on more than
 * reading. Creates the user, runs `node --test` with ADBV_TEST_MYSQL_USER / ADBV_TEST_MYSQL_PASSWORD (the test
 * helpers hand those to mysqlOrigin; seeding and counters still use root), then drops the user whatever happened.
 *
 *   npm run test:select-only            # all files
 *   npm run test:select-only -- faults  # files whose name contains "faults"
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { MYSQL_HOST, MYSQL_PORT } from '../helpers/mysql.js';

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);
const files = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.js') && (filters.length === 0 || filters.some((x) => f.includes(x))))
  .sort()
  .map((f) => join(testDir, f));
if (files.length === 0) throw new Error(`no test files in ${testDir} match ${filters.join(', ')}`);

const user = `adbv_ro_${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('hex');
const hosts = ['127.0.0.1', 'localhost', '::1'];
const admin = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root' });
let code = 1;
try {
  for (const host of hosts) {
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    // Every test file makes its own database named adbv_t_<hex>: SELECT on those, nothing else.
    await admin.query('GRANT SELECT ON `adbv\\_t\\_%`.* TO ?@?', [user, host]);
  }
  console.log(`# select-only: running ${files.length} test files as ${user} (GRANT SELECT ON \`adbv\\_t\\_%\`.*)`);
  // Ctrl-C reaches the test runner too; this process stays to drop the user once it has stopped.
  process.on('SIGINT', () => undefined);
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
      stdio: 'inherit',
      env: { ...process.env, ADBV_TEST_MYSQL_USER: user, ADBV_TEST_MYSQL_PASSWORD: password },
    });
    child.on('exit', (status, signal) => resolve(status ?? (signal === null ? 1 : 128)));
  });
} finally {
  for (const host of hosts) await admin.query('DROP USER IF EXISTS ?@?', [user, host]);
  await admin.end();
  console.log(`# select-only: user ${user} dropped`);
}
process.exitCode = code;
