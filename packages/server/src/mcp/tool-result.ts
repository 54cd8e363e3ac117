import { STATUS_CODES } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@wallcrawler/contracts';
import { toApiError } from '../http/error-handler.js';
import type { ErrorBody } from '../schemas/error.js';

/** A tool's answer as text (JSON for data, so that agents and programs read the same thing). */
export function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

export function jsonResult(value: unknown): CallToolResult {
  return textResult(JSON.stringify(value, null, 2));
}

/**
 * A failed tool call as MCP's tool error (`isError`), carrying the one error body the REST API answers with:
 * as JSON text for the model, and as `structuredContent` for programs. Server faults are logged, as the REST
 * API logs them, and reveal nothing.
 */
export function errorResult(error: unknown, requestId: string, logger: Logger): CallToolResult {
  const apiError = toApiError(error);
  if (apiError.status >= 500 && apiError.code === 'internal_error') {
    logger.error({ err: error, requestId }, 'MCP tool call failed');
  }
  const body: ErrorBody = {
    statusCode: apiError.status,
    error: STATUS_CODES[apiError.status] ?? 'Error',
    code: apiError.code,
    message: apiError.message,
    requestId,
    ...(apiError.details ? { details: apiError.details } : {}),
  };
  return {
    isError: true,
    content: [{ type: 'text', text: JSON.stringify(body) }],
    structuredContent: body as unknown as Record<string, unknown>,
  };
}
