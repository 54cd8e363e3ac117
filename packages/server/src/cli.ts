#!/usr/bin/env node
/**
 * `wallcrawler`: start the local server, and manage projects and API keys in its data dir.
 * Run `wallcrawler help` for the commands.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AWS_API_ENV, SERVER_ENV } from '@wallcrawler/contracts';
import { SqliteStore } from './adapters/sqlite/sqlite-store.js';
import { generateApiKey } from './api-keys.js';
import { newProject } from './bootstrap.js';
import { ModelUsageError, runModelCommand } from './cli-model.js';
import { stopOnSignals } from './cli-stop.js';
import { loadServerConfig } from './config.js';
import { SESSION_STATUSES, type SessionRecord, type SessionStatus } from './domain/model.js';
import { createLogger } from './logger.js';
import type { Store } from './ports/store.js';
import { startLocalServer } from './runtime/node.js';
import { VERSION } from './version.js';

const HELP = `wallcrawler ${VERSION} — self-hosted, Browserbase-compatible remote browsers

Usage:
  wallcrawler start                       Start the API and connect gateway (SIGINT, SIGTERM or SIGHUP
                                          ends every session and stops it)
  wallcrawler projects create --name <n>  [--concurrency <n>] [--default-timeout <seconds>]
  wallcrawler projects list
  wallcrawler projects model set <project-id> --base-url <url> --model <name> [--api responses|chat]
                                          [--api-key-stdin]  (the model of POST /v1/llm/responses; the key
                                          is read from stdin and stored sealed)
  wallcrawler projects model show <project-id>   (never prints the key)
  wallcrawler projects model clear <project-id>  (back to the server's WALLCRAWLER_MODEL_*)
  wallcrawler keys create                 [--name <n>] [--project <id> ...]  (default: the first project)
  wallcrawler keys list
  wallcrawler keys revoke <key-id>
  wallcrawler sessions ls                 [--project <id>] [--status <status>]
  wallcrawler sessions watch              [--interval <ms>] [--count <n>]  (live sessions, until Ctrl-C)

Options:
  --json       Machine-readable output (projects, keys)
  --version    Print the version
  -h, --help   Print this help

Environment (defaults):
  ${SERVER_ENV.host} (127.0.0.1)   ${SERVER_ENV.port} (3000)   ${SERVER_ENV.dataDir} (./.wallcrawler)
  ${SERVER_ENV.chromePath}   ${SERVER_ENV.apiKey}   ${SERVER_ENV.publicUrl}   ${SERVER_ENV.logLevel} (info)
  ${SERVER_ENV.disconnectGraceMs} (5000)
  ${SERVER_ENV.modelBaseUrl}   ${SERVER_ENV.modelName}   ${SERVER_ENV.modelApiKey}   ${SERVER_ENV.modelApi} (responses)

AWS (projects and keys commands): set ${AWS_API_ENV.sessionsTable}, ${AWS_API_ENV.projectsTable} and
  ${AWS_API_ENV.apiKeysTable} to the stack's outputs, with AWS credentials and AWS_REGION as for the AWS CLI.
`;

class UsageError extends Error {}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive whole number, got "${value}".`);
  return n;
}

/**
 * The store the project and key commands act on: the local data dir's SQLite file, or, when the DynamoDB
 * table variables are set (the AWS stack's outputs), those tables.
 */
async function openStore(): Promise<Store> {
  const A = AWS_API_ENV;
  const tables = [A.sessionsTable, A.projectsTable, A.apiKeysTable].map((name) => process.env[name]);
  if (tables.some(Boolean)) {
    const [sessions, projects, apiKeys] = tables;
    if (!sessions || !projects || !apiKeys) {
      throw new UsageError(
        `To manage an AWS deployment, set all of ${A.sessionsTable}, ${A.projectsTable} and ${A.apiKeysTable} (the stack's outputs).`,
      );
    }
    // Loaded only here: `wallcrawler start` and the local commands never load the AWS SDK (memory at rest).
    const [{ DynamoDBClient }, { DynamoDbStore }] = await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('./aws/dynamodb/dynamodb-store.js'),
    ]);
    const endpoint = process.env[A.dynamodbEndpoint];
    const client = new DynamoDBClient(endpoint ? { endpoint } : {});
    return new DynamoDbStore({ client, tables: { sessions, projects, apiKeys } });
  }
  const config = loadServerConfig();
  return SqliteStore.open(join(config.dataDir, 'wallcrawler.db'));
}

async function withStore<T>(run: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore();
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

const print = (json: boolean, value: unknown, text: string) =>
  console.log(json ? JSON.stringify(value, null, 2) : text);

async function start(): Promise<void> {
  // A terminal or log collector that went away must not turn a graceful shutdown into a crash that leaves
  // sessions behind: writes to a closed stdout/stderr (EPIPE) are dropped instead of thrown.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const config = loadServerConfig();
  const logger = createLogger(config.logLevel);
  const server = await startLocalServer(config, logger);
  const { createdProject, generatedKey, addedConfiguredKey } = server.bootstrap;
  const lines = [
    `Wallcrawler ${VERSION} is listening on ${server.url}`,
    `  data: ${config.dataDir}`,
    `  chromium: ${server.chromePath}`,
    `  browsers: up to ${config.admission.maxSessions} at once, ${config.poolSize} of them kept started ahead of sessions (${config.poolSize ? 'the warm pool' : 'no warm pool'})`,
  ];
  if (createdProject) lines.push(`Created the default project ${createdProject.id}.`);
  if (generatedKey) {
    lines.push(
      'Created an API key. It is shown only this once; keep it:',
      '',
      `  export WALLCRAWLER_API_KEY=${generatedKey}`,
      `  export WALLCRAWLER_BASE_URL=${server.url}`,
      '',
    );
  }
  if (addedConfiguredKey) lines.push(`Added ${SERVER_ENV.apiKey} as an API key of the default project.`);
  if (server.reconciled) lines.push(`Ended ${server.reconciled} session(s) left running by a previous run.`);
  console.error(lines.join('\n'));

  stopOnSignals({ close: () => server.close(), say: (line) => console.error(line) });
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      concurrency: { type: 'string' },
      'default-timeout': { type: 'string' },
      project: { type: 'string', multiple: true },
      status: { type: 'string' },
      interval: { type: 'string' },
      count: { type: 'string' },
      'base-url': { type: 'string' },
      model: { type: 'string' },
      api: { type: 'string' },
      'api-key-stdin': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  const json = values.json ?? false;
  if (values.version) return void console.log(VERSION);
  if (values.help || !command || command === 'help') return void console.log(HELP);

  if (command === 'start') return start();

  if (command === 'projects' && sub === 'create') {
    if (!values.name) throw new UsageError('projects create needs --name <name>.');
    const concurrency = positiveInt(values.concurrency, '--concurrency');
    const defaultTimeout = positiveInt(values['default-timeout'], '--default-timeout');
    if (defaultTimeout !== undefined && (defaultTimeout < 60 || defaultTimeout > 21600)) {
      throw new UsageError('--default-timeout must be between 60 and 21600 seconds.');
    }
    const project = newProject(values.name, {
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(defaultTimeout !== undefined ? { defaultTimeout } : {}),
    });
    await withStore((store) => store.createProject(project));
    return print(
      json,
      project,
      `Created project ${project.id} "${project.name}" (concurrency ${project.concurrency}, default timeout ${project.defaultTimeout} s).`,
    );
  }
  if (command === 'projects' && sub === 'list') {
    const projects = await withStore((store) => store.listProjects());
    return print(
      json,
      projects,
      projects
        .map((p) => `${p.id}  ${p.name}  concurrency=${p.concurrency}  defaultTimeout=${p.defaultTimeout}s`)
        .join('\n') || 'No projects yet: `wallcrawler start` creates the default one.',
    );
  }
  if (command === 'projects' && sub === 'model') {
    const aws = Boolean(process.env[AWS_API_ENV.projectsTable]);
    const { value, text } = await withStore((store) =>
      runModelCommand(store, arg, positionals[3], {
        baseUrl: values['base-url'],
        model: values.model,
        api: values.api,
        apiKeyStdin: values['api-key-stdin'],
        aws,
      }),
    );
    return print(json, value, text);
  }
  if (command === 'keys' && sub === 'create') {
    const { key, record } = await withStore(async (store) => {
      const all = await store.listProjects();
      const projectIds = values.project?.length ? values.project : all.slice(0, 1).map((p) => p.id);
      if (projectIds.length === 0)
        throw new UsageError(
          'There are no projects yet: run `wallcrawler start` once, or `wallcrawler projects create`.',
        );
      const unknown = projectIds.filter((id) => !all.some((p) => p.id === id));
      if (unknown.length)
        throw new UsageError(`Unknown project(s): ${unknown.join(', ')}. See \`wallcrawler projects list\`.`);
      const created = generateApiKey(values.name ?? 'cli', projectIds);
      await store.createApiKey(created.record);
      return created;
    });
    return print(
      json,
      { key, id: record.id, name: record.name, projectIds: record.projectIds },
      `Created key ${record.id} for ${record.projectIds.join(', ')}. It is shown only this once:\n\n  ${key}\n`,
    );
  }
  if (command === 'keys' && sub === 'list') {
    const keys = await withStore((store) => store.listApiKeys());
    const rows = keys.map(({ hash: _hash, ...k }) => k);
    return print(
      json,
      rows,
      rows
        .map(
          (k) =>
            `${k.id}  ${k.prefix}…  "${k.name}"  projects=${k.projectIds.join(',')}${k.revokedAt ? `  revoked ${k.revokedAt.toISOString()}` : ''}`,
        )
        .join('\n') || 'No keys.',
    );
  }
  if (command === 'keys' && sub === 'revoke') {
    if (!arg) throw new UsageError('keys revoke needs the key id (see `wallcrawler keys list`).');
    const revoked = await withStore((store) => store.revokeApiKey(arg, new Date()));
    if (!revoked) throw new UsageError(`No key ${arg}. See \`wallcrawler keys list\`.`);
    return print(json, { id: arg, revoked: true }, `Revoked ${arg}.`);
  }
  if (command === 'sessions' && sub === 'ls') {
    const status = values.status;
    if (status !== undefined && !SESSION_STATUSES.includes(status as SessionStatus)) {
      throw new UsageError(`--status must be one of ${SESSION_STATUSES.join(', ')}.`);
    }
    const sessions = await withStore(async (store) => {
      const projects = values.project?.length ? values.project : (await store.listProjects()).map((p) => p.id);
      const lists = await Promise.all(
        projects.map((id) => store.listSessions(id, status ? { status: status as SessionStatus } : {})),
      );
      return lists.flat().sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    });
    return print(
      json,
      sessions.map((s) => ({
        id: s.id,
        status: s.status,
        projectId: s.projectId,
        createdAt: s.createdAt,
        endedAt: s.endedAt,
        endReason: s.endReason,
        userMetadata: s.userMetadata,
      })),
      sessions.map((s) => sessionLine(s, Date.now())).join('\n') || 'No sessions.',
    );
  }
  if (command === 'sessions' && sub === 'watch') {
    const interval = positiveInt(values.interval, '--interval') ?? 1000;
    const count = positiveInt(values.count, '--count');
    return watchSessions(interval, count);
  }
  throw new UsageError(`Unknown command "${positionals.join(' ')}".`);
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** One session as a line: id, status, project, age (or how it ended), and time left while it runs. */
function sessionLine(s: SessionRecord, now: number, frame = 0): string {
  const age = formatDuration(now - s.createdAt.getTime());
  const marker = s.status === 'PENDING' ? `${SPINNER[frame % SPINNER.length]} ` : '';
  const tail =
    s.status === 'RUNNING' || s.status === 'PENDING'
      ? `up ${age}, ${formatDuration(s.expiresAt.getTime() - now)} left${s.keepAlive ? ', keepAlive' : ''}`
      : `${s.endedAt?.toISOString() ?? ''}  ${s.endReason ?? ''}`;
  return `${marker}${s.id}  ${s.status.padEnd(9)}  ${s.projectId}  ${tail}`;
}

function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Redraws the live sessions every `interval` ms (a terminal is cleared between frames; a pipe gets one block per
 * refresh), with a spinner on creates still waiting for their browser. Stops after `count` refreshes, or Ctrl-C.
 */
async function watchSessions(interval: number, count: number | undefined): Promise<void> {
  const store = await openStore();
  let stop = false;
  process.once('SIGINT', () => {
    stop = true;
  });
  try {
    for (let frame = 0; !stop && (count === undefined || frame < count); frame++) {
      const sessions = await store.listActiveSessions();
      const running = sessions.filter((s) => s.status === 'RUNNING').length;
      const lines = [
        `${new Date().toISOString()}  ${running} running, ${sessions.length - running} pending`,
        ...sessions.map((s) => sessionLine(s, Date.now(), frame)),
      ];
      if (sessions.length === 0) lines.push('No live sessions.');
      process.stdout.write(`${process.stdout.isTTY ? '\x1b[H\x1b[2J' : ''}${lines.join('\n')}\n`);
      if (count !== undefined && frame + 1 >= count) break;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof UsageError ||
    error instanceof ModelUsageError ||
    (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
  ) {
    console.error(`${error.message}\nRun \`wallcrawler help\` for usage.`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
});
