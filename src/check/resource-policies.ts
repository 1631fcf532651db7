import type { ReadContext } from '../core/step.js';
import { error, type Finding, ok, warn } from '../diagnose/finding.js';
import { resourceDecision } from '../policies/evaluate.js';
import { rootStatement } from '../policies/kms-key-policy.js';
import { bucketArn } from '../policies/log-bucket.js';
import type { PolicyDocument, PolicyStatement } from '../policies/types.js';

/** The agent, the AWS CLI and the plugin always speak TLS: the usual DenyInsecureTransport statement does not apply to them. */
const CONTEXT = { 'aws:SecureTransport': 'true' };

type Who = Pick<ReadContext, 'identity' | 'region'>;
/** What the preferences point at, as the account findings resolved it (account.ts Claims). */
export interface PolicyClaims {
  readonly bucket?: string;
  readonly prefix: string;
  readonly keyArn?: string;
  readonly bucketPolicy?: PolicyDocument;
  readonly keyPolicy?: PolicyDocument;
}

/** A JSON argument in single quotes for a POSIX shell. */
const quoted = (doc: PolicyDocument) => `'${JSON.stringify(doc).replace(/'/g, `'\\''`)}'`;
const label = (s: PolicyStatement) => (s.Sid ? `statement ${s.Sid}` : 'a statement without Sid');
const without = (doc: PolicyDocument, drop: readonly PolicyStatement[]): PolicyDocument => ({
  ...doc,
  Statement: doc.Statement.filter((s) => !drop.includes(s)),
});

/** The command that takes these statements out of the bucket policy (or deletes it when nothing is left). */
function bucketFix(bucket: string, region: string, doc: PolicyDocument, drop: readonly PolicyStatement[]): string {
  const rest = without(doc, drop);
  return rest.Statement.length
    ? `aws s3api put-bucket-policy --bucket ${bucket} --policy ${quoted(rest)} --region ${region}`
    : `aws s3api delete-bucket-policy --bucket ${bucket} --region ${region}`;
}
const keyFix = (keyId: string, region: string, doc: PolicyDocument) =>
  `aws kms put-key-policy --key-id ${keyId} --policy-name default --policy ${quoted(doc)} --region ${region}`;

/**
 * What the bucket policy and the key policy say about one principal: an explicit Deny there
 * overrides any IAM grant, whatever the simulation of its identity policies said. For the
 * instance role: s3:PutObject under the prefix and s3:GetEncryptionConfiguration on the bucket,
 * kms:Decrypt on the key; for the operator: kms:GenerateDataKey. A missing account-root
 * statement is the account's finding (keyRootFinding), not repeated here. Pure.
 */
export function resourcePolicyFindings(who: Who, principal: string, claims: PolicyClaims | undefined, kind: 'instance' | 'operator'): Finding[] {
  const { partition, account } = who.identity;
  const out: Finding[] = [];
  // The principal's own global keys are known too: conditions on them (an exception for an admin role, say) are decided.
  const req = { principal, account, partition, context: { ...CONTEXT, 'aws:PrincipalArn': principal, 'aws:PrincipalAccount': account } };
  const name = principal.slice(principal.lastIndexOf('/') + 1);
  if (kind === 'instance' && claims?.bucket && claims.bucketPolicy) {
    const doc = claims.bucketPolicy;
    const asks = [
      { action: 's3:PutObject', resource: `${bucketArn(partition, claims.bucket)}/${claims.prefix}ssm-setup-check.log` },
      { action: 's3:GetEncryptionConfiguration', resource: bucketArn(partition, claims.bucket) },
    ];
    const verdicts = asks.map((a) => ({ ...a, ...resourceDecision(doc, { ...req, ...a }) }));
    const denied = verdicts.filter((v) => v.decision === 'denied');
    const maybe = verdicts.filter((v) => v.decision === 'conditional' && v.statements.some((s) => s.Effect === 'Deny'));
    const bad = denied.length ? denied : maybe;
    if (bad.length) {
      const statements = [...new Set(bad.flatMap((v) => v.statements))];
      const what = bad.map((v) => v.action).join(' and ');
      const detail = `the bucket policy of ${claims.bucket} ${denied.length ? 'denies' : 'may deny (a condition not known here)'} ${what} to role ${name} (${statements.map(label).join(', ')}): session logs cannot be uploaded`;
      const fix = bucketFix(claims.bucket, who.region, doc, statements);
      out.push(denied.length ? error('bucket-policy', detail, fix) : warn('bucket-policy', detail, fix));
    } else out.push(ok('bucket-policy', `the bucket policy of ${claims.bucket} denies role ${name} nothing the session logs need`));
  }
  if (claims?.keyArn && claims.keyPolicy) {
    const action = kind === 'instance' ? 'kms:Decrypt' : 'kms:GenerateDataKey';
    const { decision, statements } = resourceDecision(claims.keyPolicy, { ...req, action, resource: claims.keyArn });
    const keyId = claims.keyArn.slice(claims.keyArn.lastIndexOf('/') + 1);
    const denies = statements.filter((s) => s.Effect === 'Deny');
    if (decision === 'denied' || (decision === 'conditional' && denies.length)) {
      const detail = `the key policy ${decision === 'denied' ? 'denies' : 'may deny (a condition not known here)'} ${action} to ${name} (${denies.map(label).join(', ')}): sessions cannot be encrypted`;
      const fix = keyFix(keyId, who.region, without(claims.keyPolicy, denies));
      out.push(decision === 'denied' ? error('key-policy', detail, fix) : warn('key-policy', detail, fix));
    } else if (decision === 'allowed') out.push(ok('key-policy', `the key policy lets IAM grant ${action} to ${name}`));
  }
  return out;
}

/**
 * The key policy must keep the account root statement (or another Allow of the account), which
 * is what lets IAM policies grant the key at all: without it the role's kms:Decrypt and the
 * operators' kms:GenerateDataKey, granted in IAM, count for nothing. Undefined without a key policy read. Pure.
 */
export function keyRootFinding(who: Who, claims: Pick<PolicyClaims, 'keyArn' | 'keyPolicy'>): Finding | undefined {
  if (!claims.keyArn || !claims.keyPolicy) return undefined;
  const { partition, account } = who.identity;
  // A principal no statement names: only an Allow of the whole account (or of anyone) takes it.
  const anyone = `arn:${partition}:iam::${account}:role/ssm-setup-no-such-principal`;
  const lacking = ['kms:Decrypt', 'kms:GenerateDataKey'].filter(
    (action) =>
      resourceDecision(claims.keyPolicy, { principal: anyone, account, partition, action, resource: claims.keyArn!, context: CONTEXT }).decision !== 'allowed',
  );
  if (!lacking.length) return ok('key-root', 'the key policy lets IAM policies grant the key (account root statement)');
  const keyId = claims.keyArn.slice(claims.keyArn.lastIndexOf('/') + 1);
  const fixed: PolicyDocument = { ...claims.keyPolicy, Statement: [rootStatement({ partition, account }), ...claims.keyPolicy.Statement] };
  return error(
    'key-root',
    `the key policy has no statement for the account root (arn:${partition}:iam::${account}:root) allowing ${lacking.join(' and ')}: IAM policies cannot grant the key, so instances cannot decrypt and operators cannot start encrypted sessions`,
    keyFix(keyId, who.region, fixed),
  );
}
