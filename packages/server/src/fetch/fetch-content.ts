import { headerValue } from '@wallcrawler/controller';

/** What a fetched body's bytes become in the answer: text in its charset, anything else base64. */
export interface FetchContent {
  content: string;
  /** The MIME type, without parameters. */
  contentType: string;
  /** The charset the text was decoded from (`utf-8` when none is named), or `base64` for a binary body. */
  encoding: string;
}

/** Types whose bodies are text, whatever their charset: they are answered decoded, the rest as base64. */
const TEXTUAL = /^text\/|[/+](json|xml|javascript|ecmascript|x-www-form-urlencoded|markdown|csv|yaml)\b/i;

/** The MIME type of `content-type` (`application/octet-stream` when there is none). */
export function mimeType(headers: Record<string, string>): string {
  const value = headerValue(headers, 'content-type');
  return value?.split(';')[0]?.trim().toLowerCase() || 'application/octet-stream';
}

export function decodeBody(body: Buffer, headers: Record<string, string>): FetchContent {
  const contentType = mimeType(headers);
  if (!TEXTUAL.test(contentType)) return { content: body.toString('base64'), contentType, encoding: 'base64' };
  const named = /charset\s*=\s*"?([^";\s]+)/i.exec(headerValue(headers, 'content-type') ?? '')?.[1]?.toLowerCase();
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(named ?? 'utf-8');
  } catch {
    // A charset Node does not know: the bytes are most likely UTF-8 (or ASCII) anyway.
    decoder = new TextDecoder('utf-8');
  }
  return { content: decoder.decode(body), contentType, encoding: named ?? 'utf-8' };
}
