import { defaultServerConditions } from 'vite';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Workspace packages resolve to their TypeScript sources through this export condition, so tests never
// run against a stale build. Vite's bundler-only 'module' condition is left out: the AWS SDK's 'module' builds
// import paths without extensions, which Node cannot load.
const conditions = ['@wallcrawler/source', ...defaultServerConditions.filter((c) => c !== 'module')];

/** After the run, no browser a test started may be alive: for every project whose tests start browsers. */
const LEAK_CHECK = 'test-support/global-leak-check.ts';
/** One DynamoDB Local (a JVM) for the run: only for the projects whose tests talk to DynamoDB. */
const DYNAMODB_LOCAL = 'test-support/global-dynamodb-local.ts';
/** The local connect edge's throwaway CA, trusted by the test processes (`NODE_EXTRA_CA_CERTS`). */
const EDGE_CA = 'test-support/global-edge-ca.ts';

// The tiers (docs/testing.md). A test file belongs to exactly one; one that no tier names is an e2e test.

/** No browser, no JVM: pure code, the SQLite store, the blob stores, the HTTP surface, the SDK, the CDK stack. */
const UNIT = [
  'packages/sdk/test/**/*.test.ts',
  'packages/contracts/test/**/*.test.ts',
  'packages/stagehand-adapter/test/**/*.test.ts',
  'packages/infra-cdk/test/**/*.test.ts',
  'packages/controller/test/unit/**/*.test.ts',
  'packages/controller/test/dockerfile.test.ts',
  'packages/server/test/{unit,store,blobs}/**/*.test.ts',
];
/** No browser: the AWS adapters against DynamoDB Local (the Lambda handlers, the store, the CLI's AWS commands). */
const AWS = [
  'packages/server/test/store/dynamodb-store.test.ts',
  'packages/server/test/unit/task-state.test.ts',
  'packages/server/test/lambda/**/*.test.ts',
  'packages/server/test/cli/cli-dynamodb.test.ts',
];
/** No browser: the API through `createApp`, with in-memory adapters. */
const APP = ['packages/server/test/app/**/*.test.ts'];
/** The AWS topology on this machine: DynamoDB Local, s3rver, the local ECS endpoint running controller tasks. */
const DISTRIBUTED = ['packages/server/test/distributed/**/*.test.ts'];
/**
 * The packages as their users get them: the packed tarballs installed outside the monorepo, and the CDK example
 * app synthesized by the real CDK CLI (a minute of CPU, though no browser).
 */
const PACKAGING = ['packages/server/test/packaging/**/*.test.ts', 'examples/cdk-app/test/**/*.test.ts'];
/**
 * The controller's real image run by a container engine (`npm run test:image`, a CI step of its own after the
 * distributed suite: it needs the image built, and Podman or Docker). Its project's name starts with
 * `distributed` so that `npm test`'s one filter, `!distributed*`, leaves out both (vitest includes a project
 * that any one of several negated filters lets through).
 */
const IMAGE = ['packages/controller/test/image/**/*.test.ts'];
/** Load storms: hundreds of browser starts. Beside other browser-heavy files they starve them, and are starved. */
const STORMS = [
  'packages/server/test/e2e/admission.e2e.test.ts',
  'packages/server/test/e2e/pool-limit.e2e.test.ts',
  'packages/server/test/leak/**/*.test.ts',
];

/**
 * The projects that share the two workers, longest files first: a long file that starts last runs on while the
 * other worker has nothing left to do. Within a project, vitest's own order stands (the longest first when a
 * previous run's durations are cached, else the largest file first).
 */
const LONGEST_FIRST = ['packaging', 'distributed', 'e2e', 'aws', 'app', 'unit'];

class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(spec.project.name);
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: within a group and project, the base order is kept.
    return (await super.sort(files)).sort(
      (a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || rank(a) - rank(b),
    );
  }
}

function project(
  name: string,
  test: NonNullable<TestProjectInlineConfiguration['test']>,
): TestProjectInlineConfiguration {
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      pool: 'forks',
      // Two cores: more browser tests in parallel files would only fight over them. Projects that run at the same
      // time must agree on this (vitest refuses otherwise).
      maxWorkers: 2,
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...test,
    },
  };
}

export default defineConfig({
  test: {
    // The compatibility suite's results are kept for docs/compatibility-results.md (test-support/compat-results-reporter.ts).
    reporters: ['default', './test-support/compat-results-reporter.ts'],
    teardownTimeout: 30_000,
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      project('unit', { include: UNIT, exclude: [...configDefaults.exclude, ...AWS] }),
      project('aws', { include: AWS, globalSetup: [DYNAMODB_LOCAL] }),
      project('app', { include: APP }),
      project('e2e', {
        include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
        exclude: [
          ...configDefaults.exclude,
          ...UNIT,
          ...AWS,
          ...APP,
          ...DISTRIBUTED,
          ...PACKAGING,
          ...STORMS,
          ...IMAGE,
        ],
        globalSetup: [LEAK_CHECK],
      }),
      project('distributed', { include: DISTRIBUTED, globalSetup: [LEAK_CHECK, DYNAMODB_LOCAL, EDGE_CA] }),
      project('packaging', { include: PACKAGING, globalSetup: [LEAK_CHECK] }),
      project('distributed-image', { include: IMAGE, globalSetup: [LEAK_CHECK, DYNAMODB_LOCAL], testTimeout: 120_000 }),
      // After every other project has finished, one file at a time.
      project('storms', { include: STORMS, globalSetup: [LEAK_CHECK], maxWorkers: 1, sequence: { groupOrder: 1 } }),
    ],
  },
});
