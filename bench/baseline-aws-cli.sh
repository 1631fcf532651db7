#!/usr/bin/env bash
# Baseline for `npm run bench`: runbook steps 2 and 3 (KMS key for session data, hardened log
# bucket) done by hand, i.e. the AWS CLI commands an operator would type. Usage: bench/baseline-aws-cli.sh <endpoint-url> [region]
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
set +x

echo "$alias_name -> $key_id, bucket $bucket"
