import { PREFERENCES_DOCUMENT, preferencesDocument } from '../preferences-document.js';
import { tagList } from '../tags.js';
import { byConditions, placeholder } from './intrinsics.js';
import { COND, getAtt, PLACEHOLDERS, RES, ref, sub } from './names.js';
import { PREFERENCES_FUNCTION_CODE } from './preferences-lambda.js';

/** The builder's preferences document, for CloudWatch Logs and Run As on or off. */
function preferencesTemplateDocument(): unknown {
  const P = PLACEHOLDERS;
  return byConditions([COND.cloudWatchLogs, COND.hasRunAs], (on) =>
    sub(
      preferencesDocument({
        bucketName: P.bucket,
        s3Prefix: P.s3Prefix,
        keyArn: P.keyArn,
        logGroupName: on[COND.cloudWatchLogs] ? P.logGroupName : undefined,
        idleTimeout: placeholder<number>(P.idleTimeout),
        // Empty parameter, empty field: the same as the builder's "none".
        maxSessionDuration: placeholder<number>(P.maxSessionDuration),
        runAs: on[COND.hasRunAs] ? P.runAs : undefined,
        shellProfileLinux: P.shellProfileLinux,
        shellProfileWindows: P.shellProfileWindows,
      }),
    ),
  );
}

/**
 * The function, its role (this one document only) and log group, and the custom resource
 * that writes the preferences document: AWS::SSM::Document cannot adopt the one most accounts
 * already have.
 */
export function preferencesResources(tags: Record<string, string>): Record<string, unknown> {
  const P = PLACEHOLDERS;
  const inputs: Record<string, unknown> = {
    ...preferencesDocument({ bucketName: '', s3Prefix: '', keyArn: '', idleTimeout: 1, shellProfileLinux: '', shellProfileWindows: '' }).inputs,
  };
  const booleanFields = Object.keys(inputs).filter((k) => typeof inputs[k] === 'boolean');
  return {
    [RES.functionRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Writes the Session Manager preferences document ${PREFERENCES_DOCUMENT} (ssm-setup)`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: 'preferences-document',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'PreferencesDocument',
                  Effect: 'Allow',
                  Action: [
                    'ssm:CreateDocument',
                    'ssm:UpdateDocument',
                    'ssm:UpdateDocumentDefaultVersion',
                    'ssm:DescribeDocument',
                    'ssm:GetDocument',
                    'ssm:AddTagsToResource',
                  ],
                  Resource: sub(`arn:${P.partition}:ssm:${P.region}:${P.account}:document/${PREFERENCES_DOCUMENT}`),
                },
                { Sid: 'FunctionLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(RES.functionLogGroup, 'Arn') },
              ],
            },
          },
        ],
        Tags: tagList(tags),
      },
    },
    [RES.functionLogGroup]: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30, Tags: tagList(tags) },
    },
    [RES.function]: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Description: `Creates or updates ${PREFERENCES_DOCUMENT} and sets its default version (ssm-setup)`,
        Runtime: 'python3.12',
        Handler: 'index.handler',
        Timeout: 120,
        MemorySize: 128,
        Role: getAtt(RES.functionRole, 'Arn'),
        LoggingConfig: { LogGroup: ref(RES.functionLogGroup) },
        Code: { ZipFile: PREFERENCES_FUNCTION_CODE },
        Tags: tagList(tags),
      },
    },
    [RES.preferences]: {
      Type: 'Custom::SessionManagerPreferences',
      Properties: {
        ServiceToken: getAtt(RES.function, 'Arn'),
        ServiceTimeout: 300,
        Document: preferencesTemplateDocument(),
        BooleanFields: booleanFields,
        DocumentTags: tags,
      },
    },
  };
}
