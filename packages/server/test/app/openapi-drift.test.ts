import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { diffContracts, formatDifferences, type NormalisedContract, normaliseOpenApi } from './openapi-compare.js';

/**
 * `openapi.yaml` is the contract (docs/architecture.md, "The contract"); the app (`createApi`, served over HTTP as
 * the local server serves it) renders its own document from its zod schemas and `createRoute` definitions. They
 * must describe the same API: any drift fails here with the place it is at.
 */

const SPEC_PATH = fileURLToPath(new URL('../../../../openapi.yaml', import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is untyped JSON, mutated freely below.
type Doc = any;

const loadSpec = (): Doc => parse(readFileSync(SPEC_PATH, 'utf8'));

let server: TestApp;
let served: Doc;

beforeAll(async () => {
  server = await startTestApp();
  const response = await fetch(`${server.url}/openapi.json`);
  expect(response.status).toBe(200);
  served = await response.json();
});

afterAll(async () => {
  await server?.close();
});

const compare = (spec: Doc, rendered: Doc = served) =>
  diffContracts(normaliseOpenApi(spec), normaliseOpenApi(rendered));

describe('the OpenAPI document the server serves', () => {
  it('matches openapi.yaml', () => {
    const differences = compare(loadSpec());
    expect(differences, formatDifferences(differences)).toEqual([]);
  });

  it('is compared in full, not vacuously', () => {
    const contract: NormalisedContract = normaliseOpenApi(served);
    expect(Object.keys(contract.operations).sort()).toEqual([
      'DELETE /v1/contexts/{id}',
      'DELETE /v1/extensions/{id}',
      'DELETE /v1/webhooks/{id}',
      'GET /health',
      'GET /metrics',
      'GET /v1/contexts/{id}',
      'GET /v1/extensions/{id}',
      'GET /v1/projects',
      'GET /v1/projects/{id}',
      'GET /v1/projects/{id}/usage',
      'GET /v1/sessions',
      'GET /v1/sessions/{id}',
      'GET /v1/sessions/{id}/debug',
      'GET /v1/sessions/{id}/downloads',
      'GET /v1/sessions/{id}/logs',
      'GET /v1/sessions/{id}/recording',
      'GET /v1/sessions/{id}/recording/downloads',
      'GET /v1/sessions/{id}/replay',
      'GET /v1/sessions/{id}/replays',
      'GET /v1/sessions/{id}/replays/{pageId}',
      'GET /v1/webhooks',
      'GET /v1/webhooks/{id}',
      'GET /v1/webhooks/{id}/deliveries',
      'PATCH /v1/webhooks/{id}',
      'POST /v1/cache/get',
      'POST /v1/cache/set',
      'POST /v1/contexts',
      'POST /v1/extensions',
      'POST /v1/fetch',
      'POST /v1/llm/responses',
      'POST /v1/search',
      'POST /v1/sessions',
      'POST /v1/sessions/start',
      'POST /v1/sessions/{id}',
      'POST /v1/sessions/{id}/act',
      'POST /v1/sessions/{id}/agentExecute',
      'POST /v1/sessions/{id}/end',
      'POST /v1/sessions/{id}/extract',
      'POST /v1/sessions/{id}/navigate',
      'POST /v1/sessions/{id}/observe',
      'POST /v1/sessions/{id}/recording/downloads',
      'POST /v1/sessions/{id}/uploads',
      'POST /v1/webhooks',
      'POST /v1/webhooks/{id}/secret',
      'PUT /v1/contexts/{id}',
    ]);
    expect(Object.keys(contract.schemas)).toEqual(
      expect.arrayContaining(['Session', 'SessionCreateParams', 'SessionLiveURLs', 'Project', 'Error']),
    );
    expect(contract.security).toEqual(['BearerAuth[]', 'BrowserbaseApiKey[]', 'WallcrawlerApiKey[]']);
    expect(Object.keys(contract.securitySchemes).sort()).toEqual([
      'BearerAuth',
      'BrowserbaseApiKey',
      'WallcrawlerApiKey',
    ]);
  });
});

describe('the comparison', () => {
  /** Each mutation of a copy of the yaml, and a path the report must name. */
  const drifts: { name: string; mutate(spec: Doc): void; reported: string }[] = [
    {
      name: 'a required flag flipped',
      mutate: (s) => {
        s.components.schemas.Session.required = s.components.schemas.Session.required.filter(
          (f: string) => f !== 'keepAlive',
        );
      },
      reported: 'schemas.Session.required',
    },
    {
      name: 'a field renamed',
      mutate: (s) => {
        const p = s.components.schemas.Project;
        p.properties.owner = p.properties.ownerId;
        delete p.properties.ownerId;
        p.required = p.required.map((f: string) => (f === 'ownerId' ? 'owner' : f));
      },
      reported: 'schemas.Project.properties.ownerId',
    },
    {
      name: 'a type changed',
      mutate: (s) => {
        s.components.schemas.Session.properties.proxyBytes.type = 'number';
      },
      reported: 'schemas.Session.properties.proxyBytes.type',
    },
    {
      name: 'a bound changed',
      mutate: (s) => {
        s.components.schemas.SessionCreateParams.properties.timeout.maximum = 3600;
      },
      reported: 'requestBody.content["application/json"].schema.properties.timeout.maximum',
    },
    {
      name: 'an enum value added',
      mutate: (s) => {
        s.components.schemas.Region.enum.push('local');
      },
      reported: 'schemas.Region.enum',
    },
    {
      name: 'a query parameter made required',
      mutate: (s) => {
        s.paths['/v1/sessions'].get.parameters[2].required = true;
      },
      reported: 'operations["GET /v1/sessions"].parameters["query q"].required',
    },
    {
      name: 'a request body made optional',
      mutate: (s) => {
        s.paths['/v1/sessions/{id}'].post.requestBody.required = false;
      },
      reported: 'operations["POST /v1/sessions/{id}"].requestBody.required',
    },
    {
      name: 'an operationId renamed',
      mutate: (s) => {
        s.paths['/v1/projects'].get.operationId = 'getProjects';
      },
      reported: 'operations["GET /v1/projects"].operationId',
    },
    {
      name: 'an operation removed',
      mutate: (s) => {
        delete s.paths['/v1/projects/{id}/usage'];
      },
      reported: 'operations["GET /v1/projects/{id}/usage"]',
    },
    {
      name: 'a response status removed',
      mutate: (s) => {
        delete s.paths['/v1/sessions'].post.responses['429'];
      },
      reported: 'operations["POST /v1/sessions"].responses["429"]',
    },
    {
      name: 'a response header changed',
      mutate: (s) => {
        s.components.responses.TooManyRequests.headers['Retry-After'].schema.type = 'string';
      },
      reported: 'responses["429"].headers["retry-after"].schema.type',
    },
    {
      name: 'a security scheme renamed on the wire',
      mutate: (s) => {
        s.components.securitySchemes.WallcrawlerApiKey.name = 'x-api-key';
      },
      reported: 'securitySchemes.WallcrawlerApiKey.name',
    },
    {
      name: 'an operation made public',
      mutate: (s) => {
        s.paths['/v1/projects'].get.security = [];
      },
      reported: 'operations["GET /v1/projects"].security',
    },
    {
      name: 'extra properties forbidden',
      mutate: (s) => {
        s.components.schemas.SessionCreateParams.additionalProperties = false;
      },
      reported: 'schemas.SessionCreateParams.additionalProperties',
    },
  ];

  it.each(drifts)('reports $name', ({ mutate, reported }) => {
    const spec = loadSpec();
    mutate(spec);
    const differences = compare(spec);
    const report = formatDifferences(differences);
    expect(differences.length, report).toBeGreaterThan(0);
    expect(
      differences.some((d) => d.path.includes(reported)),
      report,
    ).toBe(true);
    // The report shows where and both values.
    expect(report).toContain('openapi.yaml:');
    expect(report).toContain('server:');
  });

  it('names the place and both values', () => {
    const spec = loadSpec();
    spec.components.schemas.Session.properties.proxyBytes.type = 'number';
    const report = formatDifferences(compare(spec));
    expect(report).toMatch(
      /schemas\.Session\.properties\.proxyBytes\.type\n\s+openapi\.yaml: "number"\n\s+server:\s+"integer"/,
    );
  });

  it('ignores documentation and spellings that mean the same', () => {
    const spec = loadSpec();
    // Documentation.
    spec.info.title = 'Renamed';
    spec.servers = [];
    spec.tags = [];
    spec.components.schemas.Session.description = 'Reworded.';
    spec.components.schemas.Session.properties.id.example = 'sess_1';
    spec.paths['/v1/sessions'].post.summary = 'Reworded';
    spec.paths['/v1/sessions'].post.tags = ['Other'];
    // Order.
    spec.components.schemas.Session.required.reverse();
    spec.components.schemas.SessionStatus.enum.reverse();
    spec.paths['/v1/sessions'].get.parameters.reverse();
    spec.security.reverse();
    // `true` and `{}` alike.
    spec.components.schemas.SessionCreateParams.additionalProperties = {};
    // A `$ref` inlined.
    spec.paths['/v1/projects/{id}'].get.parameters = [spec.components.parameters.ProjectId];
    // `allOf` written out as one object.
    const session = spec.components.schemas.Session;
    const extra = spec.components.schemas.SessionCreateResponse.allOf[1];
    spec.components.schemas.SessionCreateResponse = {
      type: 'object',
      required: [...session.required, ...extra.required],
      properties: { ...session.properties, ...extra.properties },
    };
    const differences = compare(spec);
    expect(differences, formatDifferences(differences)).toEqual([]);
  });
});
