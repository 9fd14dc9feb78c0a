#!/usr/bin/env node
/**
 * The `asyncdbview` command: `introspect`, `warm`, `stats`, `verify`, `refresh`. Each command is a module
 * of `src/cli/`; `asyncdbview --help` lists them and the exit codes.
 */
import { runCli } from './cli/run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
