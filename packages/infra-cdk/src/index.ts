/**
 * @module
 * `@wallcrawler/infra-cdk`: Wallcrawler on AWS. `new WallcrawlerStack(app, 'Wallcrawler', props)` deploys all
 * of it; the constructs it is made of can be used on their own.
 */
export { WallcrawlerApi, type WallcrawlerApiProps } from './constructs/api.js';
export { wallcrawlerAssets } from './constructs/assets.js';
export { WallcrawlerBlobs, type WallcrawlerBlobsProps } from './constructs/blobs.js';
export {
  CONTROLLER_PORT,
  type SessionLimits,
  WallcrawlerBrowsers,
  type WallcrawlerBrowsersProps,
} from './constructs/browsers.js';
export {
  GATEWAY_PORT,
  type GatewaySize,
  WallcrawlerConnectGateway,
  type WallcrawlerConnectGatewayProps,
} from './constructs/connect-gateway.js';
export { WallcrawlerData, type WallcrawlerDataProps } from './constructs/data.js';
export { WallcrawlerEdge, type WallcrawlerEdgeProps } from './constructs/edge.js';
export { WallcrawlerNetwork, type WallcrawlerNetworkProps } from './constructs/network.js';
export { validateWallcrawlerProps, WallcrawlerStack, type WallcrawlerStackProps } from './wallcrawler-stack.js';
