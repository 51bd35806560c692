#!/bin/sh
# Stores the token of delegate @@DELEGATE_NAME@@ (token '@@TOKEN_NAME@@') in AWS Secrets Manager,
# where the task definition reads it (secrets/valueFrom), then deletes the local copy.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
aws secretsmanager put-secret-value --secret-id @@ECS_SECRET_ARN_SHELL@@ \
  --secret-string "file://$dir/delegate-token"
rm -f "$dir/delegate-token"
echo "token stored in @@ECS_SECRET_ARN@@; register task-definition.json and update the service"
