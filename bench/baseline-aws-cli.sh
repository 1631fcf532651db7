#!/usr/bin/env bash
# Baseline for `npm run bench`: the server-side runbook steps 2 to 9 done by hand, i.e. the AWS
# CLI commands an operator would type for what `ssm-setup run kms-key log-bucket instance-role
# operator-policy preferences` makes in an empty account with no target instance: the KMS key
# (alias, rotation), the hardened log bucket, the instance policy, the operator policy and the
# Session Manager preferences document. Usage: bench/baseline-aws-cli.sh <endpoint-url> [region]
# xtrace is on so that each command shows up as it runs; bench.mjs counts the `aws` lines of the trace.
set -euo pipefail

endpoint="${1:?usage: $0 <endpoint-url> [region]}"
region="${2:-us-east-1}"
alias_name="alias/ssm-session-manager"
export AWS_PAGER=""  # AWS CLI v2 would otherwise open a pager

set -x
key_id=$(aws kms create-key --endpoint-url "$endpoint" --region "$region" \
  --description "Session Manager session data and logs" \
  --key-spec SYMMETRIC_DEFAULT --key-usage ENCRYPT_DECRYPT \
  --tags TagKey=Purpose,TagValue=session-manager TagKey=Owner,TagValue=ops \
  --query KeyMetadata.KeyId --output text)
aws kms create-alias --endpoint-url "$endpoint" --region "$region" \
  --alias-name "$alias_name" --target-key-id "$key_id"
aws kms enable-key-rotation --endpoint-url "$endpoint" --region "$region" --key-id "$key_id"

account=$(aws sts get-caller-identity --endpoint-url "$endpoint" --region "$region" --query Account --output text)
bucket="ssm-session-logs-${account}-${region}"
key_arn="arn:aws:kms:${region}:${account}:key/${key_id}"
s3() { aws s3api "$@" --endpoint-url "$endpoint" --region "$region"; }
if [ "$region" = us-east-1 ]; then s3 create-bucket --bucket "$bucket" >/dev/null
else s3 create-bucket --bucket "$bucket" --create-bucket-configuration "LocationConstraint=$region" >/dev/null; fi
s3 put-bucket-tagging --bucket "$bucket" --tagging 'TagSet=[{Key=Purpose,Value=session-manager}]'
s3 put-public-access-block --bucket "$bucket" \
  --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
s3 put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"$key_arn\"},\"BucketKeyEnabled\":true}]}"
s3 put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
s3 put-bucket-lifecycle-configuration --bucket "$bucket" --lifecycle-configuration \
  '{"Rules":[{"ID":"session-logs","Status":"Enabled","Filter":{"Prefix":"session-logs/"},"Transitions":[{"Days":90,"StorageClass":"GLACIER"}],"Expiration":{"Days":365},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}}]}'
s3 put-bucket-policy --bucket "$bucket" --policy \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::$bucket\",\"arn:aws:s3:::$bucket/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"

# Runbook step 4: the instances' policy (Session Manager channels, the bucket prefix, the key).
aws iam create-policy --endpoint-url "$endpoint" --region "$region" --policy-name SSMSessionManagerInstancePolicy --policy-document \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"SessionChannels\",\"Effect\":\"Allow\",\"Action\":[\"ssmmessages:CreateControlChannel\",\"ssmmessages:CreateDataChannel\",\"ssmmessages:OpenControlChannel\",\"ssmmessages:OpenDataChannel\",\"ssm:UpdateInstanceInformation\"],\"Resource\":\"*\"},{\"Sid\":\"SessionLogs\",\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::$bucket/session-logs/*\"},{\"Sid\":\"BucketEncryption\",\"Effect\":\"Allow\",\"Action\":\"s3:GetEncryptionConfiguration\",\"Resource\":\"arn:aws:s3:::$bucket\"},{\"Sid\":\"SessionKey\",\"Effect\":\"Allow\",\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey\"],\"Resource\":\"$key_arn\"}]}" >/dev/null
# Runbook step 5: the operators' policy (the quick-start variant).
aws iam create-policy --endpoint-url "$endpoint" --region "$region" --policy-name SSMSessionManagerOperatorPolicy --policy-document \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"StartSession\",\"Effect\":\"Allow\",\"Action\":\"ssm:StartSession\",\"Resource\":[\"arn:aws:ec2:$region:$account:instance/*\",\"arn:aws:ssm:$region:$account:document/SSM-SessionManagerRunShell\"]},{\"Sid\":\"Describe\",\"Effect\":\"Allow\",\"Action\":[\"ssm:DescribeSessions\",\"ssm:GetConnectionStatus\",\"ssm:DescribeInstanceProperties\",\"ec2:DescribeInstances\"],\"Resource\":\"*\"},{\"Sid\":\"OwnSessions\",\"Effect\":\"Allow\",\"Action\":[\"ssm:TerminateSession\",\"ssm:ResumeSession\"],\"Resource\":\"arn:aws:ssm:*:*:session/\${aws:userid}-*\"},{\"Sid\":\"SessionKey\",\"Effect\":\"Allow\",\"Action\":\"kms:GenerateDataKey\",\"Resource\":\"$key_arn\"}]}" >/dev/null
# Runbook steps 6 to 9: the preferences (idle timeout, S3 logging with the key, Run As off).
aws ssm create-document --endpoint-url "$endpoint" --region "$region" --name SSM-SessionManagerRunShell --document-type Session --document-format JSON --content \
  "{\"schemaVersion\":\"1.0\",\"description\":\"Session Manager preferences\",\"sessionType\":\"Standard_Stream\",\"inputs\":{\"s3BucketName\":\"$bucket\",\"s3KeyPrefix\":\"session-logs/\",\"s3EncryptionEnabled\":true,\"cloudWatchLogGroupName\":\"\",\"cloudWatchEncryptionEnabled\":true,\"cloudWatchStreamingEnabled\":false,\"kmsKeyId\":\"$key_arn\",\"runAsEnabled\":false,\"runAsDefaultUser\":\"\",\"idleSessionTimeout\":\"20\",\"shellProfile\":{\"linux\":\"\",\"windows\":\"\"}}}" >/dev/null
set +x

echo "$alias_name -> $key_id, bucket $bucket"
