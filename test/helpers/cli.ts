/** Runs the built `asyncdbview` command (dist/cli.js) in a child process, as a script would. */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the package (build/test/helpers/ → ../../..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');

/** What one run of the command gave. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli.js ...args` (DEBUG unset), never rejecting: the exit code is the result. */
export function cli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.DEBUG;
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
