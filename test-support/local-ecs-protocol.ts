/**
 * The local ECS endpoint's wire protocol: one HTTP server that answers, for the task runner
 * (`local-ecs-tasks.ts`), ECS's JSON protocol (`RunTask`, `StopTask`, `DescribeTasks`, `CreateService`,
 * `UpdateService`, `DescribeServices`), EC2's query protocol for `DescribeNetworkInterfaces`, the task metadata
 * endpoint v4 and the ECS agent's task scale-in protection. It also records the RunTask and UpdateService calls and the ENI lookups,
 * and injects the RunTask failures a test asks for.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LocalTaskDefinition } from './local-ecs.js';
import type { LocalService, LocalTask, TaskRunner } from './local-ecs-tasks.js';

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

class EcsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface EcsProtocol {
  server: Server;
  /** The input of every RunTask call, as the client sent it. */
  runTaskCalls: Record<string, unknown>[];
  /** The input of every UpdateService call, as the client sent it. */
  updateServiceCalls: Record<string, unknown>[];
  /** The network interfaces whose public address was asked for. */
  eniLookups: string[];
  /** The failures the next RunTask calls answer with, in order. */
  injected: ('capacity' | 'throttling')[];
}

/** The endpoint's HTTP server (not yet listening) over `runner`'s tasks and services. */
export function createEcsProtocol(runner: TaskRunner, taskDefinitions: LocalTaskDefinition[]): EcsProtocol {
  const { tasks, services, eniOf, describe, describeService, launch, stopTask, reconcile } = runner;
  const injected: ('capacity' | 'throttling')[] = [];
  const runTaskCalls: Record<string, unknown>[] = [];
  const updateServiceCalls: Record<string, unknown>[] = [];
  const eniLookups: string[] = [];

  const definitionFor = (name: string): LocalTaskDefinition => {
    const family = name.replace(/^arn:aws:ecs:[^:]+:\d+:task-definition\//, '').replace(/:\d+$/, '');
    const definition = taskDefinitions.find((d) => d.family === family);
    if (!definition) throw new EcsError('ClientException', `TaskDefinition not found: ${name}`);
    return definition;
  };

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    RunTask(input) {
      runTaskCalls.push(input);
      const definition = definitionFor(String(input.taskDefinition ?? ''));
      const awsvpc = (input.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined)
        ?.awsvpcConfiguration;
      if (!awsvpc?.subnets?.length) {
        // ECS's own answer to the original's bug: Fargate's awsvpc mode needs a network configuration.
        throw new EcsError(
          'InvalidParameterException',
          "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        );
      }
      const failure = injected.shift();
      if (failure === 'throttling') throw new EcsError('ThrottlingException', 'Rate exceeded');
      if (failure === 'capacity') {
        return {
          tasks: [],
          failures: [
            {
              reason:
                'Capacity is unavailable at this time. Please try again later or in a different availability zone',
            },
          ],
        };
      }
      const task = launch(definition, String(input.cluster ?? 'default'), {
        overrides: (input.overrides as LocalTask['overrides']) ?? {},
        ...(typeof input.startedBy === 'string' ? { startedBy: input.startedBy } : {}),
        ...(typeof input.group === 'string' ? { group: input.group } : {}),
      });
      return { tasks: [describe(task)], failures: [] };
    },
    StopTask(input) {
      const task = tasks.get(String(input.task ?? ''));
      if (!task) throw new EcsError('InvalidParameterException', 'The referenced task was not found.');
      stopTask(task, 'UserInitiated', typeof input.reason === 'string' ? input.reason : 'Task stopped by user');
      return { task: describe(task) };
    },
    CreateService(input) {
      const name = String(input.serviceName ?? '');
      if (!name) throw new EcsError('InvalidParameterException', 'serviceName is required');
      services.set(name, {
        name,
        cluster: String(input.cluster ?? 'default'),
        definition: definitionFor(String(input.taskDefinition ?? '')),
        desiredCount: Number(input.desiredCount ?? 0),
      });
      reconcile();
      return { service: describeService(services.get(name) as LocalService) };
    },
    UpdateService(input) {
      updateServiceCalls.push(input);
      const service = services.get(String(input.service ?? ''));
      if (!service) throw new EcsError('ServiceNotFoundException', 'Service not found.');
      if (input.desiredCount !== undefined) service.desiredCount = Number(input.desiredCount);
      reconcile();
      return { service: describeService(service) };
    },
    DescribeServices(input) {
      const names = (input.services as string[] | undefined) ?? [];
      return {
        services: names.flatMap((n) => (services.has(n) ? [describeService(services.get(n) as LocalService)] : [])),
        failures: names.filter((n) => !services.has(n)).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    },
    DescribeTasks(input) {
      const arns = (input.tasks as string[] | undefined) ?? [];
      const found = arns.map((arn) => tasks.get(arn));
      return {
        tasks: found.filter((t): t is LocalTask => t !== undefined).map(describe),
        failures: arns.filter((_, i) => !found[i]).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    },
  };

  /** The ECS agent's endpoint in a task: only task scale-in protection. */
  const handleAgent = (request: IncomingMessage, response: ServerResponse, body: string): boolean => {
    const match = /^\/agent\/([0-9a-f]+)\/task-protection\/v1\/state$/.exec(request.url ?? '');
    if (!match) return false;
    const task = [...tasks.values()].find((t) => t.id === match[1]);
    if (!task || request.method !== 'PUT') {
      response.writeHead(task ? 405 : 404).end();
      return true;
    }
    const { ProtectionEnabled, ExpiresInMinutes = 120 } = JSON.parse(body || '{}') as {
      ProtectionEnabled?: boolean;
      ExpiresInMinutes?: number;
    };
    if (ProtectionEnabled) task.protectedUntil = Date.now() + ExpiresInMinutes * 60_000;
    else delete task.protectedUntil;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        protection: {
          ProtectionEnabled: Boolean(ProtectionEnabled),
          TaskArn: task.arn,
          ...(task.protectedUntil ? { ExpirationDate: new Date(task.protectedUntil).toISOString() } : {}),
        },
      }),
    );
    return true;
  };

  const handleMetadata = (request: IncomingMessage, response: ServerResponse): boolean => {
    const match = /^\/v4\/([0-9a-f]+)(\/task)?$/.exec(request.url ?? '');
    if (!match) return false;
    const task = [...tasks.values()].find((t) => t.id === match[1]);
    if (!task) {
      response.writeHead(404).end();
      return true;
    }
    const container = {
      Name: task.definition.container.name,
      Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: [task.ip] }],
    };
    const body = match[2]
      ? {
          TaskARN: task.arn,
          Cluster: task.clusterArn,
          LaunchType: 'FARGATE',
          ...(task.service ? { ServiceName: task.service } : {}),
          Containers: [container],
        }
      : container;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    return true;
  };

  /** EC2's query protocol, for the one call a controller makes: its network interface's public address. */
  const handleEc2 = (body: string, response: ServerResponse) => {
    const form = new URLSearchParams(body);
    const requestId = randomUUID();
    if (form.get('Action') !== 'DescribeNetworkInterfaces') {
      response.writeHead(400, { 'content-type': 'text/xml' });
      response.end(
        `<Response><Errors><Error><Code>InvalidAction</Code><Message>Unsupported</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      );
      return;
    }
    const ids = [...form.entries()].filter(([k]) => k.startsWith('NetworkInterfaceId.')).map(([, v]) => v);
    const items = [...tasks.values()]
      .filter((t) => ids.includes(eniOf(t)))
      .map((t) => {
        eniLookups.push(eniOf(t));
        return `<item><networkInterfaceId>${eniOf(t)}</networkInterfaceId><privateIpAddress>${t.ip}</privateIpAddress><association><publicIp>${t.ip}</publicIp></association></item>`;
      });
    response.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
    response.end(
      `<?xml version="1.0" encoding="UTF-8"?><DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${requestId}</requestId><networkInterfaceSet>${items.join('')}</networkInterfaceSet></DescribeNetworkInterfacesResponse>`,
    );
  };

  const server = createServer((request, response) => {
    if (handleMetadata(request, response)) return;
    let body = '';
    request.on('data', (d: Buffer) => (body += d));
    request.on('end', () => {
      if (handleAgent(request, response, body)) return;
      if (!request.headers['x-amz-target'] && body.includes('Action=')) return handleEc2(body, response);
      const target = String(request.headers['x-amz-target'] ?? '');
      const action = actions[target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : ''];
      const reply = (status: number, payload: unknown, type?: string) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomUUID(),
          ...(type ? { 'x-amzn-errortype': type } : {}),
        });
        response.end(JSON.stringify(payload));
      };
      try {
        if (!action) throw new EcsError('UnknownOperationException', `Unsupported operation ${target}`);
        reply(200, action(body ? (JSON.parse(body) as Record<string, unknown>) : {}));
      } catch (error) {
        const type = error instanceof EcsError ? error.type : 'ServerException';
        reply(type === 'ServerException' ? 500 : 400, { __type: type, message: (error as Error).message }, type);
      }
    });
  });

  return { server, runTaskCalls, updateServiceCalls, eniLookups, injected };
}
