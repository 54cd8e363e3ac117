import { CONNECT_EDGE_PATH_PATTERNS } from '@wallcrawler/contracts';
import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Distribution,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, VpcOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
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
  /** The REST API's stage, which the origin path names. */
  stageName: string;
  /**
   * The secret CloudFront adds to every request to the API as the origin-secret header, which the API checks:
   * its own `execute-api` endpoint then answers nothing but 403s.
   */
  originSecret: ISecret;
  /** The header it travels in (the server's `ORIGIN_SECRET_HEADER`). */
  originSecretHeader: string;
  /**
   * The connect gateway's internal load balancer: the connect paths (CDP, DevTools discovery, the live view and
   * the DevTools frontend) go to it as a VPC origin. Without it (`connect: 'direct'`) clients reach tasks
   * themselves.
   */
  connectLoadBalancer?: IApplicationLoadBalancer;
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
 * CloudFront in front of the API (HTTPS for clients, Shield Standard, and WAF in prod), and in edge mode in front
 * of the connect gateway too: one distribution, one https origin for clients, with its default certificate.
 * Nothing is cached: every API answer is per key, streamed answers pass through as they come, and WebSockets are
 * relayed. No standard logs: CloudFront's always include the query string, where connect tokens travel.
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
    // The stage's domain, named rather than referenced: a reference to the stage would make the distribution
    // depend on the API function (through the stage's deployment), whose environment names the distribution.
    const stack = Stack.of(this);
    const api = new HttpOrigin(`${props.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
      originPath: `/${props.stageName}`,
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      readTimeout: Duration.seconds(EDGE_RESPONSE_TIMEOUT_SECONDS),
      customHeaders: { [props.originSecretHeader]: props.originSecret.secretValue.unsafeUnwrap() },
    });
    const additionalBehaviors: Record<string, BehaviorOptions> = {};
    if (props.connectLoadBalancer) {
      const gateway = VpcOrigin.withApplicationLoadBalancer(props.connectLoadBalancer, {
        // Inside AWS's network, to an internal load balancer: TLS there would need a certificate for a domain.
        protocolPolicy: OriginProtocolPolicy.HTTP_ONLY,
        httpPort: 80,
        readTimeout: Duration.seconds(EDGE_RESPONSE_TIMEOUT_SECONDS),
      });
      for (const pattern of CONNECT_EDGE_PATH_PATTERNS) {
        additionalBehaviors[pattern] = {
          origin: gateway,
          // A token is never sent in clear: http:// is refused, not redirected after the fact.
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          // The query string (`?signingKey=`), the WebSocket handshake's headers, and the Host discovery names.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER,
        };
      }
    }
    this.distribution = new Distribution(this, 'Distribution', {
      comment: props.connectLoadBalancer ? 'Wallcrawler API and connect edge' : 'Wallcrawler API',
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: false,
      ...(webAclId ? { webAclId } : {}),
      defaultBehavior: {
        origin: api,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
      additionalBehaviors,
    });
    acknowledge(this.distribution, 'AwsSolutions-CFR1', 'A global API: clients may come from any country.');
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      "Off on purpose: CloudFront's standard logs always include the query string, where connect tokens (`?signingKey=`) and replay view tokens travel. API Gateway's access logs record every API request without it, and the gateway logs each connection without it.",
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
