import type { AnyStep } from '../core/step.js';

/**
 * Every step of the contract, in run order, with what `--help` and the runner need to know
 * before loading its code. `load` is absent for steps that a later release brings.
 */
export interface StepEntry {
  readonly id: string;
  readonly title: string;
  /** Steps whose outputs this one needs; read-only discovered when not selected themselves. */
  readonly dependsOn: readonly string[];
  readonly load?: () => Promise<AnyStep>;
}

export const STEPS: readonly StepEntry[] = [
  { id: 'kms-key', title: 'KMS key for session data', dependsOn: [], load: async () => (await import('./kms-key.js')).kmsKeyStep },
  { id: 'log-bucket', title: 'S3 bucket for session logs', dependsOn: ['kms-key'], load: async () => (await import('./log-bucket.js')).logBucketStep },
  { id: 'log-group', title: 'CloudWatch Logs group', dependsOn: ['kms-key'], load: async () => (await import('./log-group.js')).logGroupStep },
  { id: 'instance-role', title: 'IAM role and policy for instances', dependsOn: ['kms-key', 'log-bucket', 'log-group'], load: async () => (await import('./instance-role.js')).instanceRoleStep },
  { id: 'operator-policy', title: 'IAM policy for operators', dependsOn: ['kms-key'], load: async () => (await import('./operator-policy.js')).operatorPolicyStep },
  { id: 'preferences', title: 'Session Manager preferences', dependsOn: ['kms-key', 'log-bucket', 'log-group'], load: async () => (await import('./preferences.js')).preferencesStep },
  { id: 'agents', title: 'SSM and CloudWatch agents', dependsOn: [], load: async () => (await import('./agents.js')).agentsStep },
  { id: 'host-management', title: 'Host-management associations', dependsOn: [], load: async () => (await import('./host-management.js')).hostManagementStep },
  { id: 'ssh-config', title: 'SSH over Session Manager', dependsOn: [], load: async () => (await import('./ssh-config.js')).sshConfigStep },
  { id: 'check', title: 'Connectivity check', dependsOn: [], load: async () => (await import('./check.js')).checkStep },
];

export const STEP_IDS = STEPS.map((s) => s.id);
export const stepEntry = (id: string) => STEPS.find((s) => s.id === id);
