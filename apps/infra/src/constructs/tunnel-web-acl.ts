import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** A rule of the managed rule group that the web ACL only counts, with why. */
export interface RuleOverride {
  /** Rule name inside `AWSManagedRulesCommonRuleSet`. */
  readonly name: string;
  /** Why it must not block. */
  readonly reason: string;
}

/**
 * Rules of the common rule set that only count. Every other rule blocks, and the tests check
 * the edge client's real upgrade request against each of them (it sends a `User-Agent`, which
 * `NoUserAgent_HEADER` requires, so that rule stays on).
 */
export const COMMON_RULE_SET_OVERRIDES: readonly RuleOverride[] = [
  {
    name: 'SizeRestrictions_BODY',
    reason: 'the tunnel exists to carry arbitrary uploads to the device; blocking bodies over 8 KB would break them',
  },
];

/** What the web ACL protects. */
export interface TunnelWebAclProps {
  /** ARN of the application load balancer to associate the web ACL with. */
  readonly loadBalancerArn: string;
  /**
   * CloudWatch metric name prefix of the web ACL and its rule.
   * @default 'tunnel'
   */
  readonly metricPrefix?: string;
}

/**
 * A regional AWS WAF web ACL with the AWS managed common rule set, associated with the ALB (both
 * listeners: the public one and the edge clients' 8123). The rules in
 * {@link COMMON_RULE_SET_OVERRIDES} only count; see there why.
 */
export class TunnelWebAcl extends Construct {
  /** The web ACL. */
  readonly webAcl: CfnWebACL;
  /** Its association with the load balancer. */
  readonly association: CfnWebACLAssociation;

  constructor(scope: Construct, id: string, props: TunnelWebAclProps) {
    super(scope, id);
    const prefix = props.metricPrefix ?? 'tunnel';
    if (!/^[\w-]{1,100}$/.test(prefix)) {
      throw new Error(`TunnelWebAcl: metricPrefix must be 1-100 letters, digits, '_' or '-', got "${prefix}"`);
    }
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${prefix}-web-acl` },
      rules: [
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 0,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              ruleActionOverrides: COMMON_RULE_SET_OVERRIDES.map(({ name }) => ({ name, actionToUse: { count: {} } })),
            },
          },
          visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${prefix}-common` },
        },
      ],
    });
    this.association = new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
