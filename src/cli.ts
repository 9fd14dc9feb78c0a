#!/usr/bin/env node
/**
 * The `asyncdbview` command: `introspect`, `warm`, `stats`, `verify`, `refresh`. Each command is a module
 * of `src/cli/`; `asyncdbview --help` lists them and the exit codes.
 */
import { runCli } from './cli/run-cli.js';

// Output piped into a program that stops reading (`| head`) ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await runCli(process.argv.slice(2));
