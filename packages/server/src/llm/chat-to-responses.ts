import { randomUUID } from 'node:crypto';
import { EventSourceParserStream } from 'eventsource-parser/stream';

/**
 * A Chat Completions answer as the Responses API answer a Responses client (the AI SDK in Stagehand 4) reads:
 * the whole answer, or its stream of chunks as Responses' stream events (`response.created`, text deltas,
 * function-call argument deltas, `response.completed` with the usage).
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;
const ids = () => randomUUID().replaceAll('-', '');

interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

function usageOf(usage: unknown): Json {
  const u = (isObject(usage) ? usage : {}) as ChatUsage;
  const input = u.prompt_tokens ?? 0;
  const output = u.completion_tokens ?? 0;
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: u.total_tokens ?? input + output,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens_details: { reasoning_tokens: 0 },
  };
}

const incomplete = (finish: unknown) => (finish === 'length' ? { reason: 'max_output_tokens' } : null);

function messageItem(id: string, text: string): Json {
  return {
    type: 'message',
    id,
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  };
}

function functionCallItem(id: string, callId: string, name: string, args: string): Json {
  return { type: 'function_call', id, call_id: callId, name, arguments: args, status: 'completed' };
}

function responseShell(id: string, model: unknown, created: number): Json {
  return { id, object: 'response', created_at: created, model, output: [], incomplete_details: null, usage: null };
}

/** A whole Chat Completions answer as a Responses answer. */
export function chatToResponsesAnswer(chat: Json): Json {
  const choice = Array.isArray(chat.choices) && isObject(chat.choices[0]) ? chat.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const output: Json[] = [];
  if (typeof message.content === 'string' && message.content) output.push(messageItem(`msg_${ids()}`, message.content));
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : []) {
    const fn = isObject(call.function) ? call.function : {};
    output.push(
      functionCallItem(`fc_${ids()}`, String(call.id ?? ''), String(fn.name ?? ''), String(fn.arguments ?? '')),
    );
  }
  const finish = choice.finish_reason;
  return {
    ...responseShell(`resp_${ids()}`, chat.model, Number(chat.created ?? Math.floor(Date.now() / 1000))),
    status: finish === 'length' ? 'incomplete' : 'completed',
    output,
    incomplete_details: incomplete(finish),
    usage: usageOf(chat.usage),
  };
}

const frame = (event: Json) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;

/** One streamed function call, as its chunks build it up. */
interface StreamedCall {
  id: string;
  callId: string;
  name: string;
  args: string;
  outputIndex: number;
}

/**
 * Turns a Chat Completions event stream (`data: {chunk}` … `data: [DONE]`) into the Responses event stream of
 * the same answer. A stream the upstream cuts off ends with `response.failed`.
 */
export function chatToResponsesStream(chat: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const responseId = `resp_${ids()}`;
  const created = Math.floor(Date.now() / 1000);
  let sequence = 0;
  let model: unknown = '';
  let started = false;
  let text: { id: string; value: string; outputIndex: number } | undefined;
  const calls = new Map<number, StreamedCall>();
  let outputs = 0;
  let finish: unknown;
  let usage: unknown;
  let done = false;

  const emit = (controller: TransformStreamDefaultController<Uint8Array>, event: Json) =>
    controller.enqueue(encoder.encode(frame({ ...event, sequence_number: sequence++ })));
  const start = (controller: TransformStreamDefaultController<Uint8Array>) => {
    if (started) return;
    started = true;
    const response = { ...responseShell(responseId, model, created), status: 'in_progress' };
    emit(controller, { type: 'response.created', response });
    emit(controller, { type: 'response.in_progress', response });
  };
  const closeItems = (controller: TransformStreamDefaultController<Uint8Array>): Json[] => {
    const items: { index: number; item: Json }[] = [];
    if (text) {
      const item = messageItem(text.id, text.value);
      emit(controller, {
        type: 'response.output_text.done',
        item_id: text.id,
        output_index: text.outputIndex,
        content_index: 0,
        text: text.value,
      });
      emit(controller, { type: 'response.output_item.done', output_index: text.outputIndex, item });
      items.push({ index: text.outputIndex, item });
    }
    for (const call of calls.values()) {
      const item = functionCallItem(call.id, call.callId, call.name, call.args);
      emit(controller, {
        type: 'response.function_call_arguments.done',
        item_id: call.id,
        output_index: call.outputIndex,
        arguments: call.args,
      });
      emit(controller, { type: 'response.output_item.done', output_index: call.outputIndex, item });
      items.push({ index: call.outputIndex, item });
    }
    return items.sort((a, b) => a.index - b.index).map((i) => i.item);
  };

  const translate = new TransformStream<{ data: string }, Uint8Array>({
    transform({ data }, controller) {
      if (done) return;
      if (data.trim() === '[DONE]') {
        start(controller);
        const output = closeItems(controller);
        const response = {
          ...responseShell(responseId, model, created),
          status: finish === 'length' ? 'incomplete' : 'completed',
          output,
          incomplete_details: incomplete(finish),
          usage: usageOf(usage),
        };
        emit(controller, { type: finish === 'length' ? 'response.incomplete' : 'response.completed', response });
        done = true;
        return;
      }
      let chunk: Json;
      try {
        chunk = JSON.parse(data) as Json;
      } catch {
        return;
      }
      if (chunk.model) model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      start(controller);
      const choice = Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? chunk.choices[0] : undefined;
      if (!choice) return;
      if (choice.finish_reason) finish = choice.finish_reason;
      const delta = isObject(choice.delta) ? choice.delta : {};
      if (typeof delta.content === 'string' && delta.content) {
        if (!text) {
          text = { id: `msg_${ids()}`, value: '', outputIndex: outputs++ };
          emit(controller, {
            type: 'response.output_item.added',
            output_index: text.outputIndex,
            item: { type: 'message', id: text.id, status: 'in_progress', role: 'assistant', content: [] },
          });
          emit(controller, {
            type: 'response.content_part.added',
            item_id: text.id,
            output_index: text.outputIndex,
            content_index: 0,
            part: { type: 'output_text', text: '', annotations: [] },
          });
        }
        text.value += delta.content;
        emit(controller, {
          type: 'response.output_text.delta',
          item_id: text.id,
          output_index: text.outputIndex,
          content_index: 0,
          delta: delta.content,
        });
      }
      for (const part of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isObject) : []) {
        const index = Number(part.index ?? 0);
        const fn = isObject(part.function) ? part.function : {};
        let call = calls.get(index);
        if (!call) {
          call = {
            id: `fc_${ids()}`,
            callId: String(part.id ?? ''),
            name: String(fn.name ?? ''),
            args: '',
            outputIndex: outputs++,
          };
          calls.set(index, call);
          emit(controller, {
            type: 'response.output_item.added',
            output_index: call.outputIndex,
            item: {
              type: 'function_call',
              id: call.id,
              call_id: call.callId,
              name: call.name,
              arguments: '',
              status: 'in_progress',
            },
          });
        }
        if (typeof fn.arguments === 'string' && fn.arguments) {
          call.args += fn.arguments;
          emit(controller, {
            type: 'response.function_call_arguments.delta',
            item_id: call.id,
            output_index: call.outputIndex,
            delta: fn.arguments,
          });
        }
      }
    },
    flush(controller) {
      if (done) return;
      start(controller);
      const response = {
        ...responseShell(responseId, model, created),
        status: 'failed',
        error: { code: 'server_error', message: 'The model endpoint ended its stream before the answer was complete.' },
      };
      emit(controller, { type: 'response.failed', response });
    },
  });
  return chat
    .pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>)
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(translate);
}
