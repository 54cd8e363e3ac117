import { CONTROLLER_ENV } from '@wallcrawler/controller';

/** The environment variables the server reads; shared with the infrastructure code that sets them. */
export const SERVER_ENV = {
  host: 'WALLCRAWLER_HOST',
  port: 'WALLCRAWLER_PORT',
  dataDir: CONTROLLER_ENV.dataDir,
  chromePath: CONTROLLER_ENV.chromePath,
  apiKey: 'WALLCRAWLER_API_KEY',
  publicUrl: 'WALLCRAWLER_PUBLIC_URL',
  logLevel: CONTROLLER_ENV.logLevel,
  disconnectGraceMs: CONTROLLER_ENV.disconnectGraceMs,
} as const;
