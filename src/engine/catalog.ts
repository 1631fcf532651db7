import type { StepEntry } from '../core/step.js';

export type { StepEntry } from '../core/step.js';

/**
 * Every step of the contract, in run order (docs/product.md, "Steps"). The account's
 * foundations (`concurrent`) are applied as soon as what they depend on is; the steps after
 * them wait for every earlier one, as the agents need the instance role and the endpoints.
 */
export const STEPS: readonly StepEntry[] = [
  {
    id: 'kms-key',
    title: 'KMS key for session data',
    dependsOn: [],
    concurrent: true,
    load: async () => (await import('../steps/kms-key/index.js')).kmsKeyStep,
  },
  {
    id: 'log-bucket',
    title: 'S3 bucket for session logs',
    dependsOn: ['kms-key'],
    concurrent: true,
    startsBefore: ['kms-key'],
    load: async () => (await import('../steps/log-bucket/index.js')).logBucketStep,
  },
  {
    id: 'log-group',
    title: 'CloudWatch Logs group',
    dependsOn: ['kms-key'],
    concurrent: true,
    load: async () => (await import('../steps/log-group/index.js')).logGroupStep,
  },
  {
    id: 'instance-role',
    title: 'IAM role and policy for instances',
    dependsOn: ['kms-key', 'log-bucket', 'log-group'],
    concurrent: true,
    load: async () => (await import('../steps/instance-role/index.js')).instanceRoleStep,
  },
  {
    id: 'operator-policy',
    title: 'IAM policy for operators',
    dependsOn: ['kms-key'],
    concurrent: true,
    load: async () => (await import('../steps/operator-policy/index.js')).operatorPolicyStep,
  },
  {
    id: 'preferences',
    title: 'Session Manager preferences',
    dependsOn: ['kms-key', 'log-bucket', 'log-group'],
    concurrent: true,
    load: async () => (await import('../steps/preferences/index.js')).preferencesStep,
  },
  {
    id: 'vpc-endpoints',
    title: 'VPC endpoints for private subnets',
    dependsOn: [],
    load: async () => (await import('../steps/vpc-endpoints/index.js')).vpcEndpointsStep,
  },
  { id: 'agents', title: 'SSM and CloudWatch agents', dependsOn: [], load: async () => (await import('../steps/agents/index.js')).agentsStep },
  {
    id: 'host-management',
    title: 'Host-management associations',
    dependsOn: [],
    load: async () => (await import('../steps/host-management/index.js')).hostManagementStep,
  },
  { id: 'ssh-config', title: 'SSH over Session Manager', dependsOn: [], load: async () => (await import('../steps/ssh-config/index.js')).sshConfigStep },
  { id: 'check', title: 'Connectivity check', dependsOn: [], load: async () => (await import('../check/step.js')).checkStep },
];

export const STEP_IDS = STEPS.map((s) => s.id);

/** Steps that change only this machine (the SSH config file), never the account: they need no lease. */
export const LOCAL_STEPS: ReadonlySet<string> = new Set(['ssh-config']);
export const stepEntry = (id: string) => STEPS.find((s) => s.id === id);
