/**
 * The distributed suite's AWS topology: the one in `@wallcrawler/test-support/aws-topology` (which
 * `npm run aws:local` runs too), over the test run's DynamoDB Local, with the short waits tests want; clients go
 * through the connect edge behind its TLS front unless a test asks for `connect: 'direct'`. A stopped
 * task keeps the stack's stop timeout: its close path (a context's save) has as long as on Fargate.
 */
import { CONTROLLER_ENV as E } from '@wallcrawler/contracts';
import {
  type AwsTopology,
  type AwsTopologyOptions,
  startAwsTopology as start,
} from '@wallcrawler/test-support/aws-topology';
import { inject } from 'vitest';

export type { AwsTopology };

export type DistributedTopologyOptions = Partial<AwsTopologyOptions>;

export function startAwsTopology({
  dynamodbEndpoint = inject('dynamodbEndpoint'),
  readyTimeoutMs = 20_000,
  taskEnv = {},
  edge = {},
  ...options
}: DistributedTopologyOptions = {}): Promise<AwsTopology> {
  return start({
    dynamodbEndpoint,
    readyTimeoutMs,
    // The run's CA, which this test process trusts (`global-edge-ca.ts`), signs the TLS front's certificate.
    edge: { ca: inject('edgeCa'), ...edge },
    // A client's disconnect ends its session quickly, so a test's release or exit is seen at once.
    taskEnv: { [E.disconnectGraceMs]: '300', ...taskEnv },
    ...options,
  });
}
