import { ARecord, type IHostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { LoadBalancerTarget } from 'aws-cdk-lib/aws-route53-targets';
import type { ILoadBalancerV2 } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

/** Which names to point at the load balancers. */
export interface TunnelDnsRecordsProps {
  /** Hosted zone holding the domain. */
  readonly zone: IHostedZone;
  /** The tunnel's domain, inside the zone. */
  readonly domain: string;
  /** The application load balancer. */
  readonly loadBalancer: ILoadBalancerV2;
  /**
   * Create an alias record for the domain itself.
   * @default true
   */
  readonly alias?: boolean;
  /**
   * Create an alias record for `*.domain` (host-based routing to several upstreams).
   * @default false
   */
  readonly wildcard?: boolean;
  /**
   * Network load balancer of the TCP ports; gets `tcp.<domain>`.
   * @default - no TCP record
   */
  readonly tcpLoadBalancer?: ILoadBalancerV2;
}

/** Route 53 alias records for the tunnel's domain, its wildcard, and the TCP load balancer. */
export class TunnelDnsRecords extends Construct {
  /** Record of the domain, when requested. */
  readonly aliasRecord: ARecord | undefined;
  /** Record of `*.domain`, when requested. */
  readonly wildcardRecord: ARecord | undefined;
  /** Record of `tcp.<domain>`, when a TCP load balancer is given. */
  readonly tcpRecord: ARecord | undefined;

  constructor(scope: Construct, id: string, props: TunnelDnsRecordsProps) {
    super(scope, id);
    const alias = props.alias ?? true;
    const wildcard = props.wildcard ?? false;
    const domain = props.domain.toLowerCase().replace(/\.$/, '');
    const zone = props.zone.zoneName.toLowerCase().replace(/\.$/, '');
    if (!alias && !wildcard && props.tcpLoadBalancer === undefined) {
      throw new Error('TunnelDnsRecords: nothing to create; set alias, wildcard or tcpLoadBalancer');
    }
    if (domain !== zone && !domain.endsWith(`.${zone}`)) {
      throw new Error(`TunnelDnsRecords: domain ${props.domain} is not inside hosted zone ${props.zone.zoneName}`);
    }
    const record = (name: string, recordName: string, lb: ILoadBalancerV2) =>
      new ARecord(this, name, {
        zone: props.zone,
        recordName: `${recordName}.`,
        target: RecordTarget.fromAlias(new LoadBalancerTarget(lb)),
      });
    this.aliasRecord = alias ? record('Alias', domain, props.loadBalancer) : undefined;
    this.wildcardRecord = wildcard ? record('Wildcard', `*.${domain}`, props.loadBalancer) : undefined;
    this.tcpRecord = props.tcpLoadBalancer ? record('Tcp', `tcp.${domain}`, props.tcpLoadBalancer) : undefined;
  }
}
