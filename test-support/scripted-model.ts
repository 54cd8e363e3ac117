import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted OpenAI-compatible model server on loopback, so the real Stagehand code (its prompts, its schema
 * checks, its element resolution) runs end to end without a model. It serves the Responses API
 * (`POST /v1/responses`, what the AI SDK uses by default) and Chat Completions (`POST /v1/chat/completions`),
 * each as one answer or, for `stream: true`, as that API's server-sent events.
 *
 * It answers Stagehand's structured-output calls by reading Stagehand's own prompt: an act or observe call gets
 * the element of the accessibility tree whose line names what the instruction quotes; extract calls are answered
 * by the test's `extract` script; the extract metadata call says the work is complete.
 */

/**
 * A page for the scripted model's tests: a price to extract, a "Name" textbox to type into and a "Save" button
 * whose click puts the name in the title, so a test can see that an act really ran.
 */
export const ORDER_FORM_PAGE = `<!doctype html><html><head><title>Order</title></head><body>
<h1>Order form</h1>
<p id="price">Price: 42 EUR</p>
<label for="name">Name</label><input id="name" aria-label="Name">
<button id="save" onclick="document.title = 'Saved ' + document.getElementById('name').value">Save</button>
</body></html>`;

export interface ModelCall {
  kind: 'act' | 'observe' | 'extract' | 'metadata' | 'agent' | 'other';
  api: 'responses' | 'chat';
  model: string;
  /** The `Authorization` header's bearer token. */
  apiKey: string | undefined;
  system: string;
  user: string;
  /** Whether the request asked for a streamed answer. */
  stream: boolean;
}

export interface ScriptedModelOptions {
  /** The only key it accepts; any other gets OpenAI's 401. */
  apiKey: string;
  /** Answers an extract call: the object Stagehand's schema expects, from the page's accessibility tree. */
  extract?: (call: ModelCall, schema: Record<string, unknown>) => unknown;
  /**
   * Holds the answer to `call` until what it returns settles: a test orders the model's answer after something
   * the client saw (an event of the call's stream), or plays a slow model.
   */
  hold?: (call: ModelCall) => Promise<void> | undefined;
  /**
   * Answers an agent's step (a Responses request that offers tools): the tool to call, or the final text. `step` is
   * how many tool results the request carries, `tools` the names it offers (`['done']` alone: the forced finish).
   */
  agent?: (call: ModelCall, step: number, tools: string[]) => { tool: string; args: unknown } | { text: string };
  /** An HTTP status to fail `call` with (OpenAI's error body), or undefined to answer it: a failing upstream. */
  fail?: (call: ModelCall) => number | undefined;
}

export interface ScriptedModel {
  /** `http://127.0.0.1:<port>/v1`, what `model.baseURL` is set to. */
  baseURL: string;
  calls: ModelCall[];
  close(): Promise<void>;
}

type Message = { role: string; content: unknown };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : ''))
      .join('\n');
  }
  return '';
}

/** The element line of the tree (`[0-12] button: Save`) that names the instruction's quoted text. */
function elementFor(instruction: string, tree: string): { id: string; line: string } | undefined {
  // "type "Ada" into the "Name" textbox": the element is named by the last quoted text.
  const quoted = [...instruction.matchAll(/["“']([^"”']+)["”']/g)].at(-1)?.[1];
  const target = (quoted ?? instruction).toLowerCase();
  const lines = tree.split('\n');
  for (const line of lines) {
    const match = /\[(\d+-\d+)\]\s*(.*)$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const label = match[2].toLowerCase();
    if (/(button|link|textbox|combobox|checkbox)/.test(label) && label.includes(target)) {
      return { id: match[1], line: match[2] };
    }
  }
  return undefined;
}

/** What to do with the element: fill for "type ... into", click otherwise. */
function methodFor(instruction: string): { method: string; arguments: string[] } {
  const typed = /\b(?:type|fill|enter)\s+["“']([^"”']+)["”']/i.exec(instruction);
  return typed?.[1] ? { method: 'fill', arguments: [typed[1]] } : { method: 'click', arguments: [] };
}

function answer(call: ModelCall, schema: Record<string, unknown>, options: ScriptedModelOptions): unknown {
  const instruction = /^instruction:\s*(.*)$/im.exec(call.user)?.[1]?.trim() ?? '';
  const tree = call.user;
  switch (call.kind) {
    case 'act': {
      // The tree line that holds the instruction is not an element; search the tree below it.
      const element = elementFor(instruction, tree.slice(tree.indexOf('Accessibility Tree')));
      if (!element) return { action: null, twoStep: false };
      return {
        action: { elementId: element.id, description: element.line, ...methodFor(instruction) },
        twoStep: false,
      };
    }
    case 'observe': {
      const element = elementFor(instruction, tree.slice(tree.indexOf('Accessibility Tree')));
      return {
        elements: element ? [{ elementId: element.id, description: element.line, ...methodFor(instruction) }] : [],
      };
    }
    case 'metadata':
      return { progress: 'extracted what was asked', completed: true };
    case 'extract':
      return options.extract?.(call, schema) ?? { extraction: '' };
    default:
      return {};
  }
}

function kindOf(schema: Record<string, unknown>): ModelCall['kind'] {
  const properties = Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {}).sort();
  const key = properties.join(',');
  if (key === 'action,twoStep') return 'act';
  if (key === 'elements') return 'observe';
  if (key === 'completed,progress') return 'metadata';
  return 'extract';
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

const USAGE = { input_tokens: 100, output_tokens: 20, total_tokens: 120 };

/** The answer `text` as the API's stream: in two deltas, so a client sees it arrive in parts. */
function streamAnswer(response: ServerResponse, call: ModelCall, text: string, n: number, created: number): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const half = Math.ceil(text.length / 2);
  const parts = [text.slice(0, half), text.slice(half)];
  if (call.api === 'chat') {
    const chunk = (delta: unknown, finish: string | null, usage?: unknown) =>
      `data: ${JSON.stringify({ id: `chatcmpl_${n}`, object: 'chat.completion.chunk', created, model: call.model, choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
    response.write(chunk({ role: 'assistant', content: '' }, null));
    for (const part of parts) response.write(chunk({ content: part }, null));
    response.write(chunk({}, 'stop', { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 }));
    response.end('data: [DONE]\n\n');
    return;
  }
  let sequence = 0;
  const event = (body: Record<string, unknown>) =>
    `event: ${String(body.type)}\ndata: ${JSON.stringify({ ...body, sequence_number: sequence++ })}\n\n`;
  const shell = { id: `resp_${n}`, object: 'response', created_at: created, model: call.model, output: [] };
  const item = {
    type: 'message',
    id: `msg_${n}`,
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  };
  response.write(event({ type: 'response.created', response: { ...shell, status: 'in_progress' } }));
  response.write(
    event({
      type: 'response.output_item.added',
      output_index: 0,
      item: { ...item, status: 'in_progress', content: [] },
    }),
  );
  for (const part of parts)
    response.write(
      event({ type: 'response.output_text.delta', item_id: item.id, output_index: 0, content_index: 0, delta: part }),
    );
  response.write(event({ type: 'response.output_item.done', output_index: 0, item }));
  response.end(
    event({
      type: 'response.completed',
      response: {
        ...shell,
        status: 'completed',
        output: [item],
        incomplete_details: null,
        usage: { ...USAGE, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
      },
    }),
  );
}

export async function startScriptedModel(options: ScriptedModelOptions): Promise<ScriptedModel> {
  const calls: ModelCall[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const path = request.url ?? '';
      const api = path.endsWith('/responses') ? 'responses' : path.endsWith('/chat/completions') ? 'chat' : undefined;
      if (request.method !== 'POST' || !api) {
        send(404, { error: { message: `Unknown route ${request.method} ${path}`, type: 'invalid_request_error' } });
        return;
      }
      const body = await readJson(request);
      const apiKey = /^Bearer\s+(.+)$/.exec(request.headers.authorization ?? '')?.[1];
      // The Responses API takes a bare string as one user message.
      const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
      const messages: Message[] =
        api === 'responses' ? ((input as Message[] | undefined) ?? []) : ((body.messages as Message[]) ?? []);
      const schema = ((api === 'responses'
        ? (body.text as { format?: { schema?: unknown } } | undefined)?.format?.schema
        : (body.response_format as { json_schema?: { schema?: unknown } } | undefined)?.json_schema?.schema) ??
        {}) as Record<string, unknown>;
      const call: ModelCall = {
        kind: Array.isArray(body.tools) && body.tools.length > 0 ? 'agent' : kindOf(schema),
        api,
        model: String(body.model),
        apiKey,
        system: messages
          .filter((m) => m.role === 'system' || m.role === 'developer')
          .map((m) => textOf(m.content))
          .join('\n'),
        user: messages
          .filter((m) => m.role === 'user')
          .map((m) => textOf(m.content))
          .join('\n'),
        stream: body.stream === true,
      };
      calls.push(call);
      if (apiKey !== options.apiKey) {
        send(401, {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            code: 'invalid_api_key',
            param: null,
          },
        });
        return;
      }
      await options.hold?.(call);
      const failure = options.fail?.(call);
      if (failure) {
        send(failure, {
          error: { message: `Scripted failure ${failure}.`, type: 'server_error', code: null, param: null },
        });
        return;
      }
      const created = Math.floor(Date.now() / 1000);
      if (call.kind === 'agent' && options.agent && api === 'responses' && !call.stream) {
        const items = Array.isArray(input) ? (input as { type?: string }[]) : [];
        const tools = (body.tools as { name?: string }[]).map((tool) => String(tool.name));
        const step = options.agent(call, items.filter((item) => item.type === 'function_call_output').length, tools);
        const n = calls.length;
        const output =
          'tool' in step
            ? [
                {
                  type: 'function_call',
                  id: `fc_${n}`,
                  call_id: `call_${n}`,
                  name: step.tool,
                  arguments: JSON.stringify(step.args),
                  status: 'completed',
                },
              ]
            : [
                {
                  type: 'message',
                  id: `msg_${n}`,
                  status: 'completed',
                  role: 'assistant',
                  content: [{ type: 'output_text', text: step.text, annotations: [] }],
                },
              ];
        send(200, {
          id: `resp_${n}`,
          object: 'response',
          created_at: created,
          status: 'completed',
          model: call.model,
          output,
          incomplete_details: null,
          usage: {
            ...USAGE,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens_details: { reasoning_tokens: 0 },
          },
        });
        return;
      }
      const text = JSON.stringify(answer(call, schema, options));
      if (call.stream) {
        streamAnswer(response, call, text, calls.length, created);
        return;
      }
      if (api === 'responses') {
        send(200, {
          id: `resp_${calls.length}`,
          object: 'response',
          created_at: created,
          status: 'completed',
          model: call.model,
          output: [
            {
              type: 'message',
              id: `msg_${calls.length}`,
              status: 'completed',
              role: 'assistant',
              content: [{ type: 'output_text', text, annotations: [] }],
            },
          ],
          incomplete_details: null,
          usage: {
            input_tokens: 100,
            output_tokens: 20,
            total_tokens: 120,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens_details: { reasoning_tokens: 0 },
          },
        });
      } else {
        send(200, {
          id: `chatcmpl_${calls.length}`,
          object: 'chat.completion',
          created,
          model: call.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
        });
      }
    })().catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: String(error) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
