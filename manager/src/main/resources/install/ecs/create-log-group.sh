#!/bin/sh
# Creates the CloudWatch Logs group that task-definition.json sends delegate @@DELEGATE_NAME@@'s
# log to (awslogs driver), keeping 30 days. Does nothing to a group that exists already.
# Needs logs:DescribeLogGroups, CreateLogGroup and PutRetentionPolicy for the caller.
set -eu
group=@@ECS_LOG_GROUP_SHELL@@
region=@@ECS_REGION_SHELL@@
existing=$(aws logs describe-log-groups --region "$region" --log-group-name-prefix "$group" \
  --query "logGroups[?logGroupName=='$group'].logGroupName" --output text)
if [ "$existing" = "$group" ]; then
  echo "create-log-group.sh: log group $group exists in $region; left as it is"
  exit 0
fi
aws logs create-log-group --region "$region" --log-group-name "$group"
aws logs put-retention-policy --region "$region" --log-group-name "$group" --retention-in-days 30
echo "create-log-group.sh: created log group $group in $region (30 days retention)"
