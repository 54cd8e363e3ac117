/**
 * An OpenAI Responses API request as the Chat Completions request that asks the same, for endpoints that speak
 * only Chat Completions (llama.cpp, vLLM, Ollama and most local servers). What Chat has no word for (reasoning
 * settings, stored conversations) is left out; everything Stagehand and the AI SDK send is carried over:
 * instructions, messages with text and images, function calls and their outputs, tools, structured output.
 */

type Json = Record<string, unknown>;
type ChatMessage = Json & { role: string };

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/** A message's content parts as Chat's: text parts, and images as `image_url`. */
function chatContent(content: unknown): unknown {
  if (typeof content === 'string' || !Array.isArray(content)) return typeof content === 'string' ? content : '';
  const parts = content.filter(isObject).map((part) => {
    if (part.type === 'input_image') {
      const url = typeof part.image_url === 'string' ? part.image_url : String(part.file_id ?? '');
      return { type: 'image_url', image_url: { url, ...(part.detail ? { detail: part.detail } : {}) } };
    }
    return { type: 'text', text: String(part.text ?? '') };
  });
  // A text-only message as one string: some servers accept only that.
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('\n') : parts;
}

/** Responses' `input` items as Chat messages. A run of function calls becomes one assistant message's `tool_calls`. */
function chatMessages(input: unknown): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input)) return [];
  const messages: ChatMessage[] = [];
  for (const item of input.filter(isObject)) {
    if (item.type === 'function_call') {
      const call = {
        id: String(item.call_id ?? item.id ?? ''),
        type: 'function',
        function: { name: String(item.name ?? ''), arguments: String(item.arguments ?? '{}') },
      };
      const last = messages.at(-1);
      if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (item.type === 'function_call_output') {
      const output = typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? '');
      messages.push({ role: 'tool', tool_call_id: String(item.call_id ?? ''), content: output });
    } else if (typeof item.role === 'string') {
      // `developer` is the Responses name of a system message; local servers know only `system`.
      const role = item.role === 'developer' ? 'system' : item.role;
      messages.push({ role, content: chatContent(item.content) });
    }
  }
  return messages;
}

function chatResponseFormat(text: unknown): Json | undefined {
  const format = isObject(text) && isObject(text.format) ? text.format : undefined;
  if (!format) return undefined;
  if (format.type === 'json_schema') {
    const { type: _type, ...schema } = format;
    return { type: 'json_schema', json_schema: schema };
  }
  if (format.type === 'json_object') return { type: 'json_object' };
  return undefined;
}

function chatTools(tools: unknown): Json[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  const functions = tools
    .filter((tool): tool is Json => isObject(tool) && tool.type === 'function')
    .map(({ type: _type, ...fn }) => ({ type: 'function', function: fn }));
  return functions.length ? functions : undefined;
}

function chatToolChoice(choice: unknown): unknown {
  if (isObject(choice) && choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  return choice;
}

/** The Chat Completions body for a Responses body whose `model` is already the upstream's. */
export function responsesToChatRequest(body: Json): Json {
  const messages = chatMessages(body.input);
  if (typeof body.instructions === 'string' && body.instructions)
    messages.unshift({ role: 'system', content: body.instructions });
  const chat: Json = { model: body.model, messages };
  const responseFormat = chatResponseFormat(body.text);
  if (responseFormat) chat.response_format = responseFormat;
  const tools = chatTools(body.tools);
  if (tools) {
    chat.tools = tools;
    if (body.tool_choice !== undefined) chat.tool_choice = chatToolChoice(body.tool_choice);
    if (body.parallel_tool_calls !== undefined) chat.parallel_tool_calls = body.parallel_tool_calls;
  }
  for (const field of ['temperature', 'top_p', 'user', 'seed'] as const)
    if (body[field] !== undefined && body[field] !== null) chat[field] = body[field];
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}
