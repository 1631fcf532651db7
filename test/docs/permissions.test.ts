import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iamActionFor } from '../../src/aws/errors.js';

/**
 * The README's "IAM permissions ssm-setup itself needs" must list exactly what the code calls,
 * so it cannot drift: every SDK command (and paginator) used under src/ is mapped to its IAM
 * action and compared with the README's policy, both ways.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CLIENTS: Record<string, string> = {
  'client-cloudwatch-logs': 'CloudWatchLogs',
  'client-ec2': 'EC2',
  'client-iam': 'IAM',
  'client-kms': 'KMS',
  'client-s3': 'S3',
  'client-ssm': 'SSM',
  'client-sts': 'STS',
  'client-organizations': 'Organizations',
};

/**
 * Actions a call needs beyond its own, by the parameters the code sends: tags on create, a role
 * passed to EC2 or SSM, the versions DeleteObjects removes.
 */
const IMPLIED: Record<string, readonly string[]> = {
  'S3.CreateBucket': ['s3:TagResource'],
  'S3.DeleteObjects': ['s3:DeleteObjectVersion'],
  'KMS.CreateKey': ['kms:TagResource'],
  'IAM.CreateRole': ['iam:TagRole'],
  'IAM.CreatePolicy': ['iam:TagPolicy'],
  'IAM.CreateInstanceProfile': ['iam:TagInstanceProfile'],
  'EC2.AssociateIamInstanceProfile': ['iam:PassRole'],
  'SSM.UpdateServiceSetting': ['iam:PassRole'],
  'CloudWatchLogs.CreateLogGroup': ['logs:TagResource'],
  'SSM.CreateDocument': ['ssm:AddTagsToResource'],
  'SSM.CreateAssociation': ['ssm:AddTagsToResource'],
  'SSM.PutParameter': ['ssm:AddTagsToResource'],
  'EC2.CreateVpcEndpoint': ['ec2:CreateTags'],
  'EC2.CreateSecurityGroup': ['ec2:CreateTags'],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Command name → the services whose client package exports it. */
function commandIndex(): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const [pkg, service] of Object.entries(CLIENTS)) {
    let names: string[];
    try {
      names = readdirSync(join(ROOT, 'node_modules', '@aws-sdk', pkg, 'dist-types', 'commands'));
    } catch {
      continue;
    }
    for (const f of names) {
      const op = /^([A-Za-z0-9]+)Command\.d\.ts$/.exec(f)?.[1];
      if (op) index.set(op, [...(index.get(op) ?? []), service]);
    }
  }
  return index;
}

/** Every `Service.Operation` the source calls, found through the client packages each file imports. */
function callsInSource(): Set<string> {
  const index = commandIndex();
  const calls = new Set<string>();
  for (const file of files(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const imported = new Set([...text.matchAll(/@aws-sdk\/(client-[a-z0-9-]+)/g)].map((m) => CLIENTS[m[1]!]).filter(Boolean));
    const ops = [...text.matchAll(/\b([A-Z][A-Za-z0-9]+)Command\b/g), ...text.matchAll(/\bpaginate([A-Z][A-Za-z0-9]+)\b/g)].map((m) => m[1]!);
    for (const op of ops) {
      const services = (index.get(op) ?? []).filter((s) => imported.has(s));
      for (const service of services) calls.add(`${service}.${op}`);
    }
  }
  return calls;
}

function readmeActions(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## IAM permissions ssm-setup itself needs');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  const json = /```json\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const policy = JSON.parse(json) as { Statement: { Action: string | string[] }[] };
  return new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
}

describe('README permission list', () => {
  const calls = callsInSource();
  const needed = new Set([...calls].flatMap((c) => [iamActionFor(c) ?? `unmapped ${c}`, ...(IMPLIED[c] ?? [])]));
  const listed = readmeActions();

  it('finds the calls (the scan itself works)', () => {
    expect(calls).toContain('KMS.CreateKey');
    expect(calls).toContain('EC2.DescribeRouteTables');
    expect(calls).toContain('S3.GetBucketEncryption');
  });

  it('lists every IAM action the code needs', () => {
    expect([...needed].filter((a) => !listed.has(a)).sort()).toEqual([]);
  });

  it('lists nothing the code does not call', () => {
    expect([...listed].filter((a) => !needed.has(a)).sort()).toEqual([]);
  });
});
