#!/usr/bin/env bash
# Baseline for `npm run bench`: runbook step 2 (KMS key for session data) done by hand, i.e. the
# AWS CLI commands an operator would type. Usage: bench/baseline-aws-cli.sh <endpoint-url> [region]
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
set +x

echo "$alias_name -> $key_id"
