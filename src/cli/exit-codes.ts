/** The exit codes of the `asyncdbview` command, which scripts can rely on. */
export const ExitCode = {
  /** The command did what it was asked. */
  OK: 0,
  /** The command ran, and a check failed or problems were found (`verify`). */
  CHECK_FAILED: 1,
  /** The command was called wrongly: unknown command or option, a missing or bad argument, a missing file. */
  USAGE: 2,
  /** The command could not do its work: the origin is unreachable or failed, the cache cannot be written. */
  RUNTIME: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes, as every `--help` prints them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  a check failed or problems were found
  2  usage error (unknown command or option, missing or bad argument, missing file)
  3  runtime error (origin unreachable or failing, cache file unusable)`;
