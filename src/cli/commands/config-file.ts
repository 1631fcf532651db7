import { settingsFileUpdate, writeSettingsFile } from '../../config/save.js';
import type { Io } from '../../core/io.js';
import type { RunResult } from '../../engine/runner.js';

/**
 * After init or run: keep the config file in step with what the run did, so that the next run
 * from the file (a pipeline) does not undo it. In a terminal, offer to save or update the file;
 * otherwise name the keys that now differ. Nothing is asked when nothing would change: no
 * difference, or (init without a file) a run that changed nothing; an unwritable file is said,
 * not offered.
 */
export async function offerSettingsFile(result: RunResult, io: Io, command: 'init' | 'run', cwd = process.cwd()): Promise<void> {
  const { report, loaded } = result;
  // Over several accounts or regions (report.runs) the flags and the config file already say it all.
  if (!report.ok || !report.region || report.runs) return;
  const update = await settingsFileUpdate(loaded, report.region, cwd);
  if (!update.differs.length) return;
  const applied = report.steps.some((s) => s.status === 'created' || s.status === 'updated' || s.status === 'deleted');
  // A run answers to the file only when there is one; init also when it set something up.
  if (!update.exists && (command === 'run' || !applied)) return;
  const keys = update.differs.join(', ');
  if (!update.writable) {
    io.warn(`${update.path} cannot be written: its ${keys} differ${update.differs.length === 1 ? 's' : ''} from this run; pass the same values next time.`);
    return;
  }
  if (!io.interactive) {
    if (update.exists) {
      io.warn(
        `${update.path} differs from this run in ${keys}: a run from the file alone would change ${update.differs.length === 1 ? 'it' : 'them'} back. Update the file.`,
      );
    }
    return;
  }
  const save = await io.confirm({
    id: `${command}.save-config`,
    message: update.exists
      ? `Update ${update.path} with this run's ${keys}, so the next run repeats it?`
      : 'Save these answers to a settings file, so the next run (or a pipeline with --yes) repeats them?',
    default: true,
  });
  if (save) io.info(`Saved to ${await writeSettingsFile(loaded, report.region, cwd)}`);
}
