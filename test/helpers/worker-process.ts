import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A worker script (compiled with the tests) run as a child process; lines of its stdout can be awaited. */
export interface Worker {
  readonly child: ChildProcess;
  /** The first line starting with `prefix` (now or later), without the prefix. */
  line(prefix: string): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts test/workers/`script` with `config` as its argument, in an environment of `process.env` and `env`. */
export function startWorker(script: string, config: object, env: NodeJS.ProcessEnv = {}): Worker {
  const path = fileURLToPath(new URL(`../workers/${script}`, import.meta.url));
  const child = spawn(process.execPath, [path, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const seen: string[] = [];
  const waiting: { prefix: string; resolve: (rest: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    seen.push(l);
    for (const w of [...waiting]) {
      if (l.startsWith(w.prefix)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(l.slice(w.prefix.length).trim());
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    child,
    exited,
    line(prefix) {
      const found = seen.find((l) => l.startsWith(prefix));
      if (found !== undefined) return Promise.resolve(found.slice(prefix.length).trim());
      return Promise.race([
        new Promise<string>((resolve) => waiting.push({ prefix, resolve })),
        exited.then(({ code, signal, stderr: err }) => {
          throw new Error(`worker ${script} exited (${code ?? signal}) before printing "${prefix}": ${err}`);
        }),
      ]);
    },
  };
}

/** What test/workers/lookups.js prints on its `result` line. */
export interface WorkerResult {
  answers: Record<string, [string, [number, string, number][]] | null>;
  sent: Record<string, number>;
  statements: number;
  originQueries: number;
  errors: string[];
  cacheErrors: string[];
  ms: number;
  /** The SQLite driver packages loaded in the worker. */
  drivers: string[];
}
