import { Certificate, CertificateValidation, type ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IHostedZone } from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';

/** Where the HTTPS certificate comes from. */
export interface TunnelCertificateProps {
  /** Domain the certificate must cover, e.g. tunnel.example.com. */
  readonly domain: string;
  /**
   * ARN of an existing ACM certificate (same region as the load balancer) to use as is.
   * @default - a certificate is created and validated through `hostedZone`
   */
  readonly certificateArn?: string;
  /**
   * Hosted zone to validate a new certificate in (DNS validation).
   * @default - none; then `certificateArn` is required
   */
  readonly hostedZone?: IHostedZone;
}

/**
 * The certificate for the load balancers' HTTPS and TLS listeners: imported by ARN, or created
 * for the domain and `*.domain` (host-based routing, the `tcp.` name) with DNS validation.
 */
export class TunnelCertificate extends Construct {
  /** The certificate. */
  readonly certificate: ICertificate;
  /** True when this construct created (and validates) the certificate. */
  readonly created: boolean;

  constructor(scope: Construct, id: string, props: TunnelCertificateProps) {
    super(scope, id);
    if (props.certificateArn !== undefined) {
      this.certificate = Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn);
      this.created = false;
      return;
    }
    if (props.hostedZone === undefined) {
      throw new Error('TunnelCertificate: HTTPS needs a certificate: give certificateArn, or a hostedZone to create and validate one in');
    }
    this.certificate = new Certificate(this, 'Certificate', {
      domainName: props.domain,
      subjectAlternativeNames: [`*.${props.domain}`],
      validation: CertificateValidation.fromDns(props.hostedZone),
    });
    this.created = true;
  }
}
