import type { Settings } from '../config/schema.js';
import type { Clients, Identity } from '../core/clients.js';
import type { Io } from '../core/io.js';

/** One thing `destroy` will do, shown before it is done. */
export interface Removal {
  /** Which part of the setup it belongs to (a step id). */
  readonly step: string;
  readonly action: 'delete' | 'update';
  readonly resource: string;
  readonly detail: string;
  readonly run: () => Promise<void>;
}

export interface TeardownContext {
  readonly settings: Settings;
  readonly identity: Identity;
  readonly region: string;
  readonly aws: Clients;
  readonly io: Io;
  /** `--delete-logs`: the log group, the emptied bucket and (scheduled) the key go too. */
  readonly deleteLogs: boolean;
}

export const isOurs = (tags: Readonly<Record<string, string>> | undefined) => tags?.ManagedBy === 'ssm-setup';
