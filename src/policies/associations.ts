import { chunks } from '../base/batch.js';

/**
 * The State Manager associations Quick Setup's Host Management would create, as data.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/quick-setup-host-management.html
 */
export interface AssociationSpec {
  readonly name: string;
  readonly document: string;
  readonly schedule: string;
  readonly parameters: Record<string, string[]>;
}

/** Who an association applies to: by tag (new instances join by themselves) or a list of ids. */
export interface AssociationTarget {
  readonly Key: string;
  readonly Values: string[];
}

const INVENTORY = [
  'applications',
  'awsComponents',
  'networkConfig',
  'instanceDetailedInformation',
  'services',
  'windowsUpdates',
  'windowsRoles',
  'customInventory',
];

export function hostManagementAssociations(opts: { agentUpdate: boolean; cloudwatchAgent: boolean }): AssociationSpec[] {
  return [
    ...(opts.agentUpdate ? [{ name: 'ssm-setup-UpdateSSMAgent', document: 'AWS-UpdateSSMAgent', schedule: 'rate(14 days)', parameters: {} }] : []),
    {
      name: 'ssm-setup-SoftwareInventory',
      document: 'AWS-GatherSoftwareInventory',
      schedule: 'rate(30 minutes)',
      parameters: Object.fromEntries(INVENTORY.map((k) => [k, ['Enabled']])),
    },
    ...(opts.cloudwatchAgent
      ? [
          {
            name: 'ssm-setup-UpdateCloudWatchAgent',
            document: 'AWS-ConfigureAWSPackage',
            schedule: 'rate(30 days)',
            parameters: { action: ['Install'], name: ['AmazonCloudWatchAgent'] },
          },
        ]
      : []),
  ];
}

/**
 * Targets of the associations: the `--tag`s when only tags chose the instances (instances
 * tagged later are covered too), else the instance ids, 50 per association (the API's limit):
 * returns one target list per association copy.
 */
export function associationTargets(tags: readonly { key: string; value: string }[], instanceIds: readonly string[]): AssociationTarget[][] {
  if (tags.length) return [tags.map((t) => ({ Key: `tag:${t.key}`, Values: [t.value] }))];
  return chunks(instanceIds).map((Values) => [{ Key: 'InstanceIds', Values }]);
}

/** The name of the n-th copy (n from 0): `name`, `name-2`, `name-3`… */
export const copyName = (name: string, n: number) => (n === 0 ? name : `${name}-${n + 1}`);

/** Default Host Management Configuration: the role SSM assumes for instances without a profile. */
export const DHMC_ROLE = 'AWSSystemsManagerDefaultEC2InstanceManagementRole';
export const DHMC_POLICY = 'AmazonSSMManagedEC2InstanceDefaultPolicy';
export const dhmcSettingId = (partition: string, region: string, account: string) =>
  `arn:${partition}:ssm:${region}:${account}:servicesetting/ssm/managed-instance/default-ec2-instance-management-role`;
export const DHMC_SETTING_VALUE = `service-role/${DHMC_ROLE}`;

export function ssmTrustPolicy() {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
}
