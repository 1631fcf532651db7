import type { PolicyDocument, PolicyStatement } from './types.js';

export interface OperatorPolicyInput {
  partition: string;
  account: string;
  region: string;
  /** The session key: the operator's plugin generates each session's data key with it. */
  keyArn: string;
  /** `restricted`: the runbook's quick-start variant (default); `full`: the broad variant. */
  access: 'restricted' | 'full';
  /**
   * `--deny-unlogged-sessions`: no Allow names a tunnelling document, and an explicit Deny of
   * ssm:StartSession on them overrides any other policy's Allow (the broad variant's `*` too).
   */
  denyUnlogged?: boolean;
}

/**
 * The AWS session documents whose content Session Manager never records: SSH and port
 * forwarding carry an encrypted byte stream (the Port session type), and the command documents
 * run any command the caller names, a tunnel (`nc`, `socat`, `ssh -W`) included. `*` covers
 * every port-forwarding variant (…ToRemoteHost, …ToSocket) and any AWS adds.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-logging.html
 */
export const UNLOGGED_SESSION_DOCUMENTS = [
  'AWS-StartSSHSession',
  'AWS-StartPortForwardingSession*',
  'AWS-StartInteractiveCommand',
  'AWS-StartNonInteractiveCommand',
] as const;

/** The Sid of the explicit Deny: `operatorPolicyVariant` recognises a policy that had it. */
export const DENY_UNLOGGED_SID = 'DenyUnloggedSessions';

/** The preferences document; the account creates it, so its ARN holds the account. */
const runShellDocumentArn = (i: OperatorPolicyInput) => `arn:${i.partition}:ssm:${i.region}:${i.account}:document/SSM-SessionManagerRunShell`;

/**
 * AWS-owned documents have no account in the ARN IAM checks (`arn:aws:ssm:<region>::document/AWS-…`);
 * `*` in the account field also matches that empty account, and stays right should AWS ever
 * put one there.
 */
const awsDocumentArn = (i: OperatorPolicyInput, name: string) => `arn:${i.partition}:ssm:${i.region}:*:document/${name}`;

/**
 * StartSession on this account's instances of the region, with the shell preferences document or
 * the SSH document (runbook step 10; not with `--deny-unlogged-sessions`). StartSession is authorised on the target and on the session
 * document; a named document is always checked, and the document access check makes IAM check
 * SSM-SessionManagerRunShell too when the CLI names none. No other session document (port
 * forwarding, custom shells) is granted.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-quickstart.html
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-sessiondocumentaccesscheck.html
 */
function startSessionStatement(i: OperatorPolicyInput): PolicyStatement {
  const ssh = i.denyUnlogged ? [] : [awsDocumentArn(i, 'AWS-StartSSHSession')];
  return {
    Sid: 'StartSessionOnInstances',
    Effect: 'Allow',
    Action: 'ssm:StartSession',
    Resource: [`arn:${i.partition}:ec2:${i.region}:${i.account}:instance/*`, runShellDocumentArn(i), ...ssh],
    Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
  };
}

/**
 * `--deny-unlogged-sessions`: StartSession with a document of UNLOGGED_SESSION_DOCUMENTS is
 * refused whatever else allows it, so every session an operator can open is content-logged. In
 * every region (`*`): a tunnel elsewhere escapes the audit as well.
 */
function denyUnloggedStatement(i: OperatorPolicyInput): PolicyStatement {
  return {
    Sid: DENY_UNLOGGED_SID,
    Effect: 'Deny',
    Action: 'ssm:StartSession',
    Resource: UNLOGGED_SESSION_DOCUMENTS.map((name) => `arn:${i.partition}:ssm:*:*:document/${name}`),
  };
}

/**
 * What the console and the CLI read to list instances and sessions. These list actions support no
 * resource types (GetConnectionStatus does, but is a read of the agent's status only).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 */
function sessionStatusStatement(): PolicyStatement {
  return {
    Sid: 'SessionStatus',
    Effect: 'Allow',
    Action: ['ssm:DescribeSessions', 'ssm:GetConnectionStatus', 'ssm:DescribeInstanceProperties', 'ssm:DescribeInstanceInformation', 'ec2:DescribeInstances'],
    Resource: '*',
  };
}

/**
 * Read the preferences (the console shows them). Deliberately without ssm:CreateDocument and
 * ssm:UpdateDocument, although the runbook's quick-start lists them: an operator who may edit the
 * preferences can switch session logging and encryption off for everyone. The preferences are
 * ssm-setup's (or an administrator's) to change.
 */
function readPreferencesStatement(i: OperatorPolicyInput): PolicyStatement {
  return { Sid: 'ReadPreferences', Effect: 'Allow', Action: 'ssm:GetDocument', Resource: runShellDocumentArn(i) };
}

/**
 * The session-manager-plugin opens the session's data channel (the websocket that carries the
 * shell) with ssmmessages:OpenDataChannel after StartSession or ResumeSession returned; AWS's
 * current quick-start end-user policies grant it on the caller's own sessions. Without it the
 * session fails right after StartSession succeeded.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-quickstart.html
 */
const OPEN_DATA_CHANNEL = 'ssmmessages:OpenDataChannel';
const OWN_SESSION_ACTIONS = ['ssm:TerminateSession', 'ssm:ResumeSession', OPEN_DATA_CHANNEL];

/**
 * An IAM user's session IDs start with the user name, so the resource itself names the owner.
 * `${aws:username}` exists for IAM users only. AWS's quick-start policies name the sessions by
 * `${aws:userid}` instead; both shapes are the caller's own, so both are granted.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-examples.html
 */
function ownSessionsAsUserStatement(i: OperatorPolicyInput, actions: string[]): PolicyStatement {
  const session = (variable: string) => `arn:${i.partition}:ssm:*:${i.account}:session/\${${variable}}-*`;
  return { Sid: 'OwnSessionsAsIamUser', Effect: 'Allow', Action: actions, Resource: [session('aws:username'), session('aws:userid')] };
}

/**
 * For assumed roles and IAM Identity Center, whose session IDs start with the role session name,
 * which any caller of the role may choose: Session Manager tags each session with the starter's
 * user ID (`AROA…:session-name`), and `${aws:userid}` is the caller's (AWS's "Example 4").
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-examples.html
 */
function ownSessionsAsRoleStatement(i: OperatorPolicyInput, actions: string[]): PolicyStatement {
  return {
    Sid: 'OwnSessionsAsRole',
    Effect: 'Allow',
    Action: actions,
    Resource: `arn:${i.partition}:ssm:*:${i.account}:session/*`,
    // An IAM policy variable, resolved by IAM.
    Condition: { StringLike: { 'ssm:resourceTag/aws:ssmmessages:session-id': '${aws:userid}' } },
  };
}

/**
 * The session-manager-plugin on the operator's machine generates the session's data key with the
 * session key; without this sessions fail with "KMSEncryption failed on client".
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/session-preferences-enable-encryption.html
 */
function sessionKeyStatement(i: OperatorPolicyInput): PolicyStatement {
  return { Sid: 'SessionKey', Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: i.keyArn };
}

/** The runbook's broad variant: sessions on every instance and document, and every session's end. */
function fullAccessStatement(): PolicyStatement {
  return {
    Sid: 'SessionsOnAllInstances',
    Effect: 'Allow',
    Action: [
      'ssm:StartSession',
      'ssm:TerminateSession',
      'ssm:ResumeSession',
      'ssm:DescribeSessions',
      'ssm:GetConnectionStatus',
      'ssm:DescribeInstanceProperties',
      'ssm:DescribeInstanceInformation',
      'ec2:DescribeInstances',
    ],
    Resource: '*',
  };
}

/**
 * The managed policy attached to operators (runbook steps 5 and 10). Both variants open the data
 * channel of the caller's own sessions only (as AWS's quick-start policies do, for end users and
 * administrators alike).
 */
export function operatorPolicy(input: OperatorPolicyInput): PolicyDocument {
  const Statement: PolicyStatement[] =
    input.access === 'full'
      ? [
          fullAccessStatement(),
          ownSessionsAsUserStatement(input, [OPEN_DATA_CHANNEL]),
          ownSessionsAsRoleStatement(input, [OPEN_DATA_CHANNEL]),
          sessionKeyStatement(input),
        ]
      : [
          startSessionStatement(input),
          sessionStatusStatement(),
          readPreferencesStatement(input),
          ownSessionsAsUserStatement(input, OWN_SESSION_ACTIONS),
          ownSessionsAsRoleStatement(input, OWN_SESSION_ACTIONS),
          sessionKeyStatement(input),
        ];
  if (input.denyUnlogged) Statement.push(denyUnloggedStatement(input));
  return { Version: '2012-10-17', Statement };
}

/**
 * What an operator policy document is, read back by its statements: the variant (by the Sid of
 * its StartSession statement) and whether it holds the Deny of unlogged sessions. Undefined
 * fields: not an ssm-setup operator policy. Pure; for the plan's risk and the deployed settings.
 */
export function operatorPolicyVariant(doc: PolicyDocument | undefined): { access?: 'restricted' | 'full'; denyUnlogged: boolean } {
  const sids = new Set((doc?.Statement ?? []).map((s) => s.Sid));
  const access = sids.has('SessionsOnAllInstances') ? 'full' : sids.has('StartSessionOnInstances') ? 'restricted' : undefined;
  return { ...(access ? { access } : {}), denyUnlogged: sids.has(DENY_UNLOGGED_SID) };
}
