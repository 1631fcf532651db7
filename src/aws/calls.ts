import { appendFileSync } from 'node:fs';

/** Operation-name prefixes that only read (sts:AssumeRole hands out credentials, it changes nothing). Everything else counts as a write. */
const READ_PREFIXES = ['Get', 'Describe', 'List', 'Head', 'Lookup', 'Search', 'Simulate', 'AssumeRole'];

export const isWriteCall = (operation: string) => !READ_PREFIXES.some((p) => operation.startsWith(p));

export interface CallRecord {
  readonly service: string;
  readonly operation: string;
  readonly write: boolean;
}

/**
 * Counts the AWS calls of a run (one per logical call; retries are not counted). With
 * SSM_SETUP_CALL_LOG=<file> each call is appended to that file as a JSON line: the e2e tests
 * and the benchmark count writes with it.
 */
export class CallRecorder {
  readonly calls: CallRecord[] = [];
  constructor(
    private readonly logFile = process.env.SSM_SETUP_CALL_LOG,
    private readonly onCall?: (call: CallRecord) => void,
  ) {}

  record(clientName: string, commandName: string): CallRecord {
    const call = {
      service: clientName.replace(/Client$/, ''),
      operation: commandName.replace(/Command$/, ''),
      write: isWriteCall(commandName),
    };
    this.calls.push(call);
    if (this.logFile) appendFileSync(this.logFile, `${JSON.stringify(call)}\n`);
    this.onCall?.(call);
    return call;
  }

  get writes(): number {
    return this.calls.filter((c) => c.write).length;
  }
}

/** The `Service.Operation` an SDK error came from, attached by the client middleware. */
export const CALL_KEY = '$ssmSetupCall';
