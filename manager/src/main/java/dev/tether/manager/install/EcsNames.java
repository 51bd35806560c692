package dev.tether.manager.install;

import dev.tether.common.text.UserText;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The AWS names an ECS install derives from its two ARNs: the region and partition of the secret,
 * the account of the execution role, the delegate's log group, and the secret's name and IAM
 * resource, so that the task definition, the IAM policy and the scripts name the same things.
 *
 * @param region the secret's region, also where the task logs (awslogs-region) and the log group live
 * @param logGroup the CloudWatch Logs group of this delegate
 * @param logGroupArn the IAM resource covering that group's log streams
 * @param secretName the name put-secret.sh creates the secret under, or "" when the ARN is complete
 * @param secretPolicyResource the IAM resource naming exactly that one secret
 */
record EcsNames(String region, String logGroup, String logGroupArn, String secretName, String secretPolicyResource) {

  /** arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME. */
  private static final Pattern SECRET_ARN =
      Pattern.compile("arn:([a-z-]+):secretsmanager:([a-z0-9-]+):([0-9]{12}):secret:(.+)");
  /** arn:PARTITION:iam::ACCOUNT:role/NAME. */
  private static final Pattern ROLE_ARN = Pattern.compile("arn:([a-z-]+):iam::([0-9]{12}):role/.+");
  /**
   * Secrets Manager ends a secret's full ARN with '-' and 6 random characters. A name may end that
   * way too; such an ARN is taken as complete, and put-secret.sh then refuses to create it.
   */
  private static final Pattern COMPLETE_SECRET_NAME = Pattern.compile(".+-[A-Za-z0-9]{6}");

  static EcsNames of(InstallSpec spec) {
    Matcher secret = SECRET_ARN.matcher(spec.ecsSecretArn());
    if (!secret.matches()) {
      throw new IllegalArgumentException("--ecs-secret-arn " + UserText.quote(spec.ecsSecretArn()) + " is not the ARN of"
          + " a Secrets Manager secret (expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME; put-secret.sh"
          + " and the IAM policy are written for Secrets Manager, and the task logs in the secret's region)");
    }
    Matcher role = ROLE_ARN.matcher(spec.ecsExecutionRoleArn());
    if (!role.matches()) {
      throw new IllegalArgumentException("--ecs-execution-role-arn " + UserText.quote(spec.ecsExecutionRoleArn())
          + " is not the ARN of an IAM role (expected arn:aws:iam::ACCOUNT:role/NAME)");
    }
    String region = secret.group(2);
    String name = secret.group(4);
    boolean complete = COMPLETE_SECRET_NAME.matcher(name).matches();
    String logGroup = "/tether/delegate/" + spec.delegateName();
    // the log group is in the task's account, which is the execution role's
    String logGroupArn = "arn:" + role.group(1) + ":logs:" + region + ":" + role.group(2) + ":log-group:" + logGroup + ":*";
    // IAM matches a secret by its full ARN; for a partial one, AWS documents ARN-?????? (exactly 6 characters)
    String secretResource = complete ? spec.ecsSecretArn() : spec.ecsSecretArn() + "-??????";
    return new EcsNames(region, logGroup, logGroupArn, complete ? "" : name, secretResource);
  }

  /** The template values of {@code values} plus these names, each as a JSON string and a shell word. */
  Map<String, String> addTo(Map<String, String> values) {
    Map<String, String> all = new LinkedHashMap<>(values);
    Map<String, String> names = Map.of("ECS_REGION", region, "ECS_LOG_GROUP", logGroup, "ECS_LOG_GROUP_ARN", logGroupArn,
        "ECS_SECRET_NAME", secretName, "ECS_SECRET_POLICY_RESOURCE", secretPolicyResource);
    names.forEach((key, value) -> {
      all.put(key + "_QUOTED", Quote.json(value));
      all.put(key + "_SHELL", Quote.shell(value));
    });
    return all;
  }
}
