import { expect, it } from 'vitest';
import { chatToResponsesAnswer, chatToResponsesStream } from '../../src/llm/chat-to-responses.js';
import { responsesToChatRequest } from '../../src/llm/responses-to-chat.js';

/** Responses ↔ Chat Completions, for what the app test's scripted model does not exercise: tools and their calls. */

it('translates instructions, images, function calls and their outputs, tools and structured output', () => {
  const chat = responsesToChatRequest({
    model: 'qwen',
    instructions: 'Be brief.',
    input: [
      { role: 'developer', content: 'Use the tools.' },
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is on the page?' },
          { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
        ],
      },
      { type: 'function_call', call_id: 'call_1', name: 'goto', arguments: '{"url":"https://a"}' },
      { type: 'function_call', call_id: 'call_2', name: 'ariaTree', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'ok' },
      { type: 'function_call_output', call_id: 'call_2', output: { tree: '[0-1] button' } },
    ],
    tools: [{ type: 'function', name: 'goto', description: 'Go', parameters: { type: 'object' }, strict: true }],
    tool_choice: { type: 'function', name: 'goto' },
    text: { format: { type: 'json_schema', name: 'Out', schema: { type: 'object' }, strict: true } },
    max_output_tokens: 100,
    temperature: 0,
    stream: true,
    reasoning: { effort: 'low' },
  });
  expect(chat).toEqual({
    model: 'qwen',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Use the tools.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is on the page?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'goto', arguments: '{"url":"https://a"}' } },
          { id: 'call_2', type: 'function', function: { name: 'ariaTree', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
      { role: 'tool', tool_call_id: 'call_2', content: '{"tree":"[0-1] button"}' },
    ],
    response_format: { type: 'json_schema', json_schema: { name: 'Out', schema: { type: 'object' }, strict: true } },
    tools: [
      { type: 'function', function: { name: 'goto', description: 'Go', parameters: { type: 'object' }, strict: true } },
    ],
    tool_choice: { type: 'function', function: { name: 'goto' } },
    temperature: 0,
    max_tokens: 100,
    stream: true,
    stream_options: { include_usage: true },
  });
});

it('translates a Chat answer with text and tool calls, and a cut-off one', () => {
  const answer = chatToResponsesAnswer({
    model: 'qwen',
    created: 1,
    choices: [
      {
        message: {
          role: 'assistant',
          content: 'Going there.',
          tool_calls: [
            { id: 'call_9', type: 'function', function: { name: 'goto', arguments: '{"url":"https://a"}' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  });
  expect(answer).toMatchObject({
    object: 'response',
    status: 'completed',
    model: 'qwen',
    output: [
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Going there.' }] },
      { type: 'function_call', call_id: 'call_9', name: 'goto', arguments: '{"url":"https://a"}' },
    ],
    usage: { input_tokens: 7, output_tokens: 3, total_tokens: 10 },
  });
  const cut = chatToResponsesAnswer({ choices: [{ message: { content: 'par' }, finish_reason: 'length' }] });
  expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
});

const sse = (chunks: unknown[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      const encoder = new TextEncoder();
      for (const chunk of chunks)
        controller.enqueue(encoder.encode(typeof chunk === 'string' ? chunk : `data: ${JSON.stringify(chunk)}\n\n`));
      controller.close();
    },
  });

async function events(stream: ReadableStream<Uint8Array>) {
  const text = await new Response(stream).text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => JSON.parse(frame.split('\n')[1]?.slice('data: '.length) ?? '{}') as Record<string, unknown>);
}

it('streams tool-call argument deltas as Responses events, and ends with the whole call', async () => {
  const out = await events(
    chatToResponsesStream(
      sse([
        {
          model: 'qwen',
          choices: [
            {
              delta: {
                role: 'assistant',
                tool_calls: [{ index: 0, id: 'call_1', function: { name: 'act', arguments: '' } }],
              },
            },
          ],
        },
        { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"action":' } }] } }] },
        { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '"click"}' } }] } }] },
        { choices: [{ delta: {}, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 5, completion_tokens: 2 } },
        'data: [DONE]\n\n',
      ]),
    ),
  );
  expect(out.map((e) => e.type)).toEqual([
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.done',
    'response.output_item.done',
    'response.completed',
  ]);
  expect(out.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(out.at(-1)).toMatchObject({
    response: {
      status: 'completed',
      output: [{ type: 'function_call', call_id: 'call_1', name: 'act', arguments: '{"action":"click"}' }],
      usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
    },
  });
});

it('ends a stream the endpoint cut off with response.failed', async () => {
  const out = await events(chatToResponsesStream(sse([{ choices: [{ delta: { content: 'Hal' } }] }])));
  expect(out.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed' } });
});
