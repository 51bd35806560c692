#!/bin/sh
# Stores the token of delegate @@DELEGATE_NAME@@ (token '@@TOKEN_NAME@@') in AWS Secrets Manager,
# where the task definition reads it (secrets/valueFrom), then deletes the local copy.
# The secret is updated when it exists (a new version), and created when it does not.
# Needs secretsmanager:DescribeSecret, PutSecretValue and CreateSecret for the caller (not for the task).
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
arn=@@ECS_SECRET_ARN_SHELL@@
# the name to create the secret under; empty when the ARN already ends in AWS's 6 random characters
name=@@ECS_SECRET_NAME_SHELL@@
region=@@ECS_REGION_SHELL@@
token_file="$dir/delegate-token"
if [ ! -f "$token_file" ]; then
  echo "put-secret.sh: $token_file is missing: an earlier run stored and deleted it, or it was never written." \
    "To store another token, write it there (mode 0600) and run this again" >&2
  exit 1
fi
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
if full=$(aws secretsmanager describe-secret --region "$region" --secret-id "$arn" \
    --query ARN --output text 2>"$errors"); then
  aws secretsmanager put-secret-value --region "$region" --secret-id "$full" \
    --secret-string "file://$token_file" >/dev/null
  echo "put-secret.sh: stored a new version of $full"
elif grep -q ResourceNotFoundException "$errors"; then
  if [ -z "$name" ]; then
    echo "put-secret.sh: $arn does not exist, and it ends in the 6 random characters AWS adds to a new" \
      "secret's ARN, so no secret can be created under it. Give install-files --ecs-secret-arn without" \
      "the suffix (arn:...:secret:NAME) to have this script create it, or create it yourself" \
      "(aws secretsmanager create-secret --name NAME)" >&2
    exit 1
  fi
  full=$(aws secretsmanager create-secret --region "$region" --name "$name" \
    --description "Tether delegate token for @@DELEGATE_NAME@@ (account @@ACCOUNT_ID@@, token @@TOKEN_NAME@@)" \
    --secret-string "file://$token_file" --query ARN --output text)
  echo "put-secret.sh: created secret $full"
else
  cat "$errors" >&2
  echo "put-secret.sh: cannot look up $arn (the aws error is above); nothing was stored" >&2
  exit 1
fi
rm -f "$token_file"
echo "put-secret.sh: deleted the local copy of the token"
if [ "$full" != "$arn" ]; then
  # ECS documents only a secret's full ARN in valueFrom; the IAM policy's ARN-?????? matches it already
  pattern=$(printf '%s' "$arn" | sed 's/[.]/\\./g')
  sed "s|\"$pattern\"|\"$full\"|" "$dir/task-definition.json" >"$dir/task-definition.json.new"
  mv "$dir/task-definition.json.new" "$dir/task-definition.json"
  echo "put-secret.sh: task-definition.json now reads the token from the full ARN $full"
fi
echo "put-secret.sh: next: ./create-log-group.sh, attach execution-role-policy.json to the execution role," \
  "then aws ecs register-task-definition --cli-input-json file://task-definition.json"
