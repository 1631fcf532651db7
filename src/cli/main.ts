import { type Command, CommanderError } from 'commander';
import { AbortedError, causeLines, SetupError, UsageError } from '../base/errors.js';
import type { Io } from '../core/io.js';
import { errorView } from '../core/report.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { createProgram } from './program.js';

/** Commands and the module that runs each; imported only when that command runs. */
const COMMANDS: Record<string, () => Promise<{ run: (cmd: Command, args: string[], io: Io) => Promise<number> }>> = {
  init: () => import('./commands/init.js'),
  plan: () => import('./commands/plan.js'),
  run: () => import('./commands/run.js'),
  'ssh-config': () => import('./commands/ssh-config.js'),
  check: () => import('./commands/check.js'),
  audit: () => import('./commands/audit.js'),
  export: () => import('./commands/export.js'),
  destroy: () => import('./commands/destroy.js'),
};

/**
 * The one place that prints errors and decides the exit code. Returns the code; the launcher
 * (bin/ssm-setup.js) sets it on the process. `signal` is the launcher's Ctrl-C: the run stops
 * after the AWS call in flight and reports what was done (exit 130); a second Ctrl-C is the
 * launcher's own, which exits at once.
 */
export async function main(argv: readonly string[], opts: { readonly signal?: AbortSignal } = {}): Promise<number> {
  let io: Io | undefined;
  const onInterrupt = () =>
    (io ?? { warn: (m: string) => process.stderr.write(`${m}\n`) }).warn(
      'Ctrl-C: stopping after the AWS call in flight; nothing more will be applied (press Ctrl-C again to quit at once).',
    );
  opts.signal?.addEventListener('abort', onInterrupt, { once: true });
  let command = 'ssm-setup';
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const program = createProgram(async (name, cmd, args) => {
    command = name;
    io = await (await import('./session.js')).createIo(cmd, opts.signal);
    return (await COMMANDS[name]!()).run(cmd, args, io);
  });
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end here too; commander has already printed its message.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return ExitCode.Ok;
      if (json) printJsonError(command, new UsageError('BAD_ARGUMENTS', err.message.replace(/^error: /, '')));
      return ExitCode.Usage;
    }
    report(err, command, json, verbose, io);
    return exitCodeFor(err);
  } finally {
    opts.signal?.removeEventListener('abort', onInterrupt);
  }
}

function report(err: unknown, command: string, json: boolean, verbose: boolean, io: Io | undefined): void {
  if (json) printJsonError(command, err);
  if (err instanceof SetupError) {
    // Declining or Ctrl-C is the person's own choice, not an error.
    const lines = [err instanceof AbortedError ? err.message : `Error: ${err.message}`];
    if (err.hint) lines.push(`Fix: ${err.hint}`);
    if (verbose) lines.push(`code: ${err.code}`, ...causeLines(err));
    if (io) io.error(lines.join('\n'));
    else process.stderr.write(`${lines.join('\n')}\n`);
    return;
  }
  // A bug: say so, with the stack, so it can be reported.
  process.stderr.write(`Internal error (please report it with this output):\n${(err as Error)?.stack ?? String(err)}\n`);
}

function printJsonError(command: string, err: unknown): void {
  const error = err instanceof SetupError ? errorView(err) : { code: 'INTERNAL', message: (err as Error)?.message ?? String(err) };
  process.stdout.write(`${JSON.stringify({ command, ok: false, steps: [], error }, null, 2)}\n`);
}
