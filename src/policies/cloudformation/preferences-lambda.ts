import { MANAGED_BY_TAG } from '../../config/schema.js';
import { PREFERENCES_DOCUMENT } from '../preferences-document.js';
import { ORIGINAL_DEFAULT_VERSION_TAG } from './names.js';

/**
 * The custom resource's function (Python, inline). It receives the document as built above;
 * CloudFormation hands custom resources every scalar as a string, so the fields the builder
 * makes booleans are named in BooleanFields and turned back into JSON booleans.
 * Create or Update: create the document, or record the previous default version (once, on a
 * document ssm-setup did not create), write a new version unless the default already holds
 * this content, wait until it is Active and make it the default. Delete: nothing.
 *
 * Why a Lambda at all: the regional preferences document exists in many accounts already and
 * AWS::SSM::Document cannot adopt it (see DESCRIPTION in index.ts). It is a TS string rather
 * than a .py file so that the bundle needs no file loading; inline (ZipFile) code may be at
 * most 4,096 characters.
 */
export const PREFERENCES_FUNCTION_CODE = `import json, time, urllib.request
import boto3
from botocore.exceptions import ClientError

NAME = '${PREFERENCES_DOCUMENT}'
ORIGINAL = '${ORIGINAL_DEFAULT_VERSION_TAG}'
ssm = boto3.client('ssm')


def send(event, context, ok, reason, data=None):
    body = json.dumps({
        'Status': 'SUCCESS' if ok else 'FAILED',
        'Reason': (reason or 'see ' + context.log_stream_name)[:1000],
        'PhysicalResourceId': NAME,
        'StackId': event['StackId'],
        'RequestId': event['RequestId'],
        'LogicalResourceId': event['LogicalResourceId'],
        'Data': data or {},
    }).encode()
    request = urllib.request.Request(event['ResponseURL'], data=body, method='PUT', headers={'Content-Type': ''})
    urllib.request.urlopen(request, timeout=30)


def content(version=None):
    args = {'Name': NAME, 'DocumentVersion': version} if version else {'Name': NAME}
    return json.loads(ssm.get_document(**args)['Content'])


def apply(props):
    doc = props['Document']
    for field in props['BooleanFields']:
        doc['inputs'][field] = str(doc['inputs'][field]).lower() == 'true'
    text = json.dumps(doc, indent=2)
    try:
        current = ssm.describe_document(Name=NAME)['Document']
    except ClientError as e:
        if e.response['Error']['Code'] != 'InvalidDocument':
            raise
        tags = [{'Key': k, 'Value': v} for k, v in props.get('DocumentTags', {}).items()]
        out = ssm.create_document(Name=NAME, Content=text, DocumentType='Session', DocumentFormat='JSON', Tags=tags)
        return out['DocumentDescription']['DocumentVersion']
    tags = {t['Key']: t['Value'] for t in current.get('Tags', [])}
    if tags.get('${MANAGED_BY_TAG.key}') != '${MANAGED_BY_TAG.value}' and ORIGINAL not in tags:
        ssm.add_tags_to_resource(ResourceType='Document', ResourceId=NAME, Tags=[{'Key': ORIGINAL, 'Value': current['DefaultVersion']}])
    if content() == doc:
        return current['DefaultVersion']
    try:
        out = ssm.update_document(Name=NAME, Content=text, DocumentVersion='$LATEST', DocumentFormat='JSON')
        version = out['DocumentDescription']['DocumentVersion']
    except ClientError as e:
        if e.response['Error']['Code'] != 'DuplicateDocumentContent':
            raise
        latest = int(current['LatestVersion'])
        same = [str(v) for v in range(latest, max(0, latest - 25), -1) if content(str(v)) == doc]
        if not same:
            raise
        version = same[0]
    for _ in range(30):
        if ssm.describe_document(Name=NAME)['Document']['Status'] == 'Active':
            break
        time.sleep(2)
    ssm.update_document_default_version(Name=NAME, DocumentVersion=version)
    return version


def handler(event, context):
    try:
        if event['RequestType'] == 'Delete':
            return send(event, context, True, NAME + ' is left as it is')
        send(event, context, True, '', {'DocumentVersion': apply(event['ResourceProperties'])})
    except Exception as e:
        print(repr(e))
        send(event, context, False, '%s: %s' % (type(e).__name__, e))
`;
