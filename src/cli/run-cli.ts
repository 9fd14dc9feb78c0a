import { readFileSync } from 'node:fs';
import { changes } from './changes.js';
import { commandHelp, parseCommandArgs, type Command } from './command.js';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { introspect } from './introspect.js';
import { refresh } from './refresh.js';
import { stats } from './stats.js';
import { UsageError } from './usage-error.js';
import { verify } from './verify.js';
import { warm } from './warm.js';

/** The subcommands, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [introspect, warm, stats, verify, refresh, changes];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: asyncdbview COMMAND [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `asyncdbview COMMAND --help` for the options of a command.',
    'Set DEBUG=asyncdbview to log the statements sent to the origin (asyncdbview* for the cache too).',
    '',
    EXIT_CODES_HELP,
    '',
  ].join('\n');
}

/** The message of an error and of its causes, each once. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && e !== null && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    const message = e instanceof Error ? e.message : String(e);
    if (message !== '' && !parts.some((p) => p.includes(message))) parts.push(message);
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ') || String(error);
}

/** Runs `asyncdbview` with `args` (argv without node and the script); resolves to the exit code. */
export async function runCli(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    process.stderr.write(mainHelp());
    return ExitCode.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0] === undefined ? undefined : COMMANDS.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && topic === undefined) {
      process.stderr.write(`asyncdbview: unknown command ${JSON.stringify(rest[0])}\n\n${mainHelp()}`);
      return ExitCode.USAGE;
    }
    process.stdout.write(topic === undefined ? mainHelp() : commandHelp(topic));
    return ExitCode.OK;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return ExitCode.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`asyncdbview: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}`);
    return ExitCode.USAGE;
  }
  try {
    const values = parseCommandArgs(command, rest);
    if (values === undefined) {
      process.stdout.write(commandHelp(command));
      return ExitCode.OK;
    }
    return await command.run(values);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`asyncdbview ${command.name}: ${error.message}\nRun \`asyncdbview ${command.name} --help\` for usage.\n`);
      return ExitCode.USAGE;
    }
    process.stderr.write(`asyncdbview ${command.name}: ${describeError(error)}\n`);
    return ExitCode.RUNTIME;
  }
}
