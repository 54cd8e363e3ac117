import { ModelUnreachableError } from '../domain/errors.js';
import type { ModelGateway } from '../llm/model-gateway.js';

type Json = Record<string, unknown>;

/** What the model is asked to do with a fetched page (`format: "json"`). */
const INSTRUCTIONS =
  'Extract from the web page below the data that the JSON schema describes. Answer with one JSON value that ' +
  'matches the schema and nothing else. Use only what the page says; leave out what it does not.';

/** The text of a Responses answer: its `output_text`, or its messages' `output_text` parts. */
function outputText(answer: Json): string {
  if (typeof answer.output_text === 'string') return answer.output_text;
  const output = Array.isArray(answer.output) ? (answer.output as Json[]) : [];
  return output
    .filter((item) => item.type === 'message')
    .flatMap((item) => (Array.isArray(item.content) ? (item.content as Json[]) : []))
    .filter((part) => part.type === 'output_text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('');
}

/**
 * `POST /v1/fetch` with `format: "json"`: the rendered page (as markdown) and the caller's schema, sent to the
 * project's model through the model gateway (a structured-output Responses call, `"auto"` mapped to the project's
 * model), and the model's JSON answer. The gateway's own errors (no model: 400, a failing model: 502) pass through.
 * @throws ModelUnreachableError when the model's answer is not a JSON object
 */
export async function extractBySchema(
  gateway: ModelGateway,
  projectId: string,
  { url, page, schema }: { url: string; page: string; schema: Json },
): Promise<Json> {
  const response = await gateway.responses(projectId, {
    model: 'auto',
    instructions: INSTRUCTIONS,
    input: `URL: ${url}\n\n${page}`,
    text: { format: { type: 'json_schema', name: 'extraction', schema, strict: false } },
  });
  const text = outputText((await response.json()) as Json);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelUnreachableError(
      `The model did not answer the extraction with a JSON object (it answered ${JSON.stringify(text.slice(0, 200))}).`,
      undefined,
    );
  }
  return value as Json;
}
