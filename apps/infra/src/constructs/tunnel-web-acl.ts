import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

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
 * A regional AWS WAF web ACL with the AWS managed common rule set, associated with the ALB.
 * The rule set's 8 KB body-size rule only counts: the tunnel exists to carry arbitrary
 * uploads to the device, and blocking bodies over 8 KB would break them.
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
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
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
