import { Duration } from 'aws-cdk-lib';
import type { RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  OriginRequestPolicy,
  PriceClass,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { RestApiOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/**
 * How long CloudFront waits for the API's first byte, and then between bytes (its origin response timeout): the
 * longest a create may wait for its browser, and the longest a streamed answer may stay silent. 60 s is within
 * every account's default quota.
 */
export const EDGE_RESPONSE_TIMEOUT_SECONDS = 60;

export interface WallcrawlerEdgeProps {
  /** The API (a regional REST API; CloudFront reaches its stage). */
  restApi: RestApiBase;
  /**
   * The WAF web ACL in front of CloudFront: `create` makes one (AWS's common and known-bad-inputs rule sets and
   * a per-IP rate limit; CloudFront-scoped, so the stack must be in us-east-1), an ARN uses an existing one.
   * @default undefined (no WAF)
   */
  waf?: 'create' | { webAclArn: string };
  /** Requests per 5 minutes per IP before the WAF blocks (when it creates the ACL). @default 2000 */
  rateLimitPer5Minutes?: number;
}

/**
 * CloudFront in front of the API (HTTPS for clients, Shield Standard, and WAF in prod). Nothing is cached:
 * every API answer is per key, and streamed answers pass through as they come. CDP connections do not pass
 * here; they go straight to the browsers' tasks.
 */
export class WallcrawlerEdge extends Construct {
  readonly distribution: Distribution;
  readonly webAcl?: CfnWebACL;

  constructor(scope: Construct, id: string, props: WallcrawlerEdgeProps) {
    super(scope, id);
    let webAclId: string | undefined;
    if (props.waf === 'create') {
      const managed = (name: string, priority: number) => ({
        name,
        priority,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
      });
      this.webAcl = new CfnWebACL(this, 'WebAcl', {
        scope: 'CLOUDFRONT',
        defaultAction: { allow: {} },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'wallcrawler', sampledRequestsEnabled: true },
        rules: [
          managed('AWSManagedRulesCommonRuleSet', 1),
          managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
          {
            name: 'RateLimitPerIp',
            priority: 3,
            action: { block: {} },
            statement: { rateBasedStatement: { limit: props.rateLimitPer5Minutes ?? 2000, aggregateKeyType: 'IP' } },
            visibilityConfig: {
              cloudWatchMetricsEnabled: true,
              metricName: 'RateLimitPerIp',
              sampledRequestsEnabled: true,
            },
          },
        ],
      });
      webAclId = this.webAcl.attrArn;
    } else if (props.waf) {
      webAclId = props.waf.webAclArn;
    }
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Wallcrawler API',
      priceClass: PriceClass.PRICE_CLASS_100,
      ...(webAclId ? { webAclId } : {}),
      defaultBehavior: {
        origin: new RestApiOrigin(props.restApi, {
          readTimeout: Duration.seconds(EDGE_RESPONSE_TIMEOUT_SECONDS),
        }),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
    });
    acknowledge(this.distribution, 'AwsSolutions-CFR1', 'A global API: clients may come from any country.');
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      "API Gateway's access logs already record every request (with the status and latency); CloudFront's would repeat them.",
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'The default *.cloudfront.net certificate, whose minimum protocol CloudFront fixes; a custom domain with TLSv1.2_2021 is not offered by the stack yet.',
    );
    if (!webAclId) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR2',
        'Dev mode has no WAF (its cost at rest); prod mode creates one.',
      );
    }
  }

  /** `https://<id>.cloudfront.net`: the base URL clients use. */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}
