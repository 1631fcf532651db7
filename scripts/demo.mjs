// `npm run demo`: ssm-setup against a throwaway moto_server (127.0.0.1 only), no real AWS account.
// Seeds a small EC2 fleet, runs `init --yes`, then `plan` to show that a rerun has nothing to do,
// and reads the key back with the SDK to show it really exists.
// `npm run demo -- --interactive`: seeds the fleet, prints the endpoint and the environment to try
// the wizard yourself in another terminal, and keeps moto running until Ctrl-C.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { motoEnv, startMoto } from './moto.mjs';

// Same as bin/ssm-setup.js: silence the SDK's Node 20 end-of-support notice on every client.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REGION = 'us-east-1';
const AMI_PARAM = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
const FALLBACK_AMI = 'ami-0ed094fb1304fd857';
const KEY_ALIAS = 'alias/ssm-session-manager';

/** SDK client options for the emulator: fake credentials, never a real account. */
const sdk = (endpoint) => ({ endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

async function latestAmi(endpoint) {
  try {
    const out = await new SSMClient(sdk(endpoint)).send(new GetParameterCommand({ Name: AMI_PARAM }));
    return out.Parameter?.Value ?? FALLBACK_AMI;
  } catch {
    return FALLBACK_AMI; // older moto versions do not ship the public AMI parameters
  }
}

async function seedFleet(endpoint, count = 3) {
  const ec2 = new EC2Client(sdk(endpoint));
  const ImageId = await latestAmi(endpoint);
  const seeded = [];
  for (let i = 1; i <= count; i++) {
    const name = `demo-web-${i}`;
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'Name', Value: name },
              { Key: 'Env', Value: 'demo' },
            ],
          },
        ],
      }),
    );
    seeded.push({ id: out.Instances[0].InstanceId, name, ami: ImageId });
  }
  return seeded;
}

/** Runs ssm-setup with the terminal attached, so the user sees its real output. Rejects on failure. */
function ssmSetup(endpoint, args) {
  console.log(`\n$ ssm-setup ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/ssm-setup.js', ...args], { cwd: ROOT, env: motoEnv(endpoint), stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`ssm-setup ${args.join(' ')} failed (${signal ?? `exit ${code}`})`))));
  });
}

/** `--interactive`: the environment for another terminal, then wait for Ctrl-C (which stops moto). */
async function keepRunning(endpoint) {
  const env = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION, AWS_ENDPOINT_URL: endpoint };
  console.log('\nmoto keeps running. In another terminal, in this directory:\n');
  console.log(
    `  export ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null`,
  );
  console.log('  node bin/ssm-setup.js init        # the wizard; also plan, check, audit, destroy');
  console.log('\nPress Ctrl-C here to stop moto.');
  await new Promise(() => {}); // until the SIGINT handler stops moto and exits
}

const moto = await startMoto();
let stopping;
const stopMoto = () => (stopping ??= moto.stop()); // once, whether from finally or from Ctrl-C
process.once('SIGINT', () => void stopMoto().finally(() => process.exit(130)));

try {
  console.log(`moto_server (pid ${moto.pid}) at ${moto.endpoint}`);
  const fleet = await seedFleet(moto.endpoint);
  console.log(`Seeded ${fleet.length} EC2 instances in ${REGION}:`);
  for (const i of fleet) console.log(`  ${i.id}  Name=${i.name}  Env=demo  (${i.ami})`);
  if (process.argv.includes('--interactive')) await keepRunning(moto.endpoint);

  await ssmSetup(moto.endpoint, ['init', '--yes', '--cloudwatch-logs']);
  // The seeded instances have no instance profile: give them one. (Only the IAM step here: the
  // agents, host-management and check steps need SSM APIs the emulator does not implement.)
  await ssmSetup(moto.endpoint, ['run', 'instance-role', '--yes', '--cloudwatch-logs', '--tag', 'Env=demo']);
  // --detailed-exitcode makes "something is still pending" (exit 3) a demo failure, not just text.
  await ssmSetup(moto.endpoint, ['plan', '--cloudwatch-logs', '--detailed-exitcode']);

  const kms = new KMSClient(sdk(moto.endpoint));
  const { KeyMetadata: key } = await kms.send(new DescribeKeyCommand({ KeyId: KEY_ALIAS }));
  const { KeyRotationEnabled } = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
  console.log(`\nCreated key ${key.Arn} (rotation on: ${KeyRotationEnabled})`);
  const s3 = new S3Client({ ...sdk(moto.endpoint), forcePathStyle: true });
  const bucket = `ssm-session-logs-123456789012-${REGION}`;
  const sse = (await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration.Rules[0];
  console.log(
    `Created bucket ${bucket} (${sse.ApplyServerSideEncryptionByDefault.SSEAlgorithm} with ${sse.ApplyServerSideEncryptionByDefault.KMSMasterKeyID})`,
  );
  const logs = new CloudWatchLogsClient(sdk(moto.endpoint));
  const [group] = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/ssm/session-logs' }))).logGroups;
  console.log(`Created log group ${group.logGroupName} (retention ${group.retentionInDays} days, key ${group.kmsKeyId})`);
} catch (err) {
  console.error(`\ndemo failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  await stopMoto();
}
