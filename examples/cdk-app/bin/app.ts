import { WallcrawlerStack } from '@wallcrawler/infra-cdk';
import { App } from 'aws-cdk-lib';

const app = new App();

// `cdk deploy -c mode=prod` for the production layout (private subnets with NAT for the API, WAF).
const mode = app.node.tryGetContext('mode') === 'prod' ? 'prod' : 'dev';

new WallcrawlerStack(app, mode === 'prod' ? 'Wallcrawler' : 'WallcrawlerDev', {
  mode,
  // WAF for CloudFront lives in us-east-1: deploy prod there, or pass `waf: { webAclArn }`.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
});
