/**
 * What the CDP log never keeps: credentials and what a user types. Applied to every command's params and
 * result before it is stored.
 *
 * - any field whose name says it is a secret (`password`, `token`, `secret`, `authorization`, `cookie`,
 *   `apiKey`, ...), at any depth;
 * - header lists of `{name, value}` whose name is such a header;
 * - cookie values, in the commands that set or read cookies;
 * - typed text (`Input.insertText`, and the characters of `Input.dispatchKeyEvent`; named keys like `Enter`
 *   stay), since it may be a password.
 */

export const REDACTED = '[redacted]';

const SECRET_NAME =
  /pass(word|wd|phrase)?$|secret|token|authori[sz]ation|cookie|api[-_]?key|credential|session[-_]?key|private[-_]?key|signing[-_]?key/i;
const COOKIE_METHODS = /cookie/i;
const MAX_DEPTH = 12;

/** `value` with secrets replaced; the very same object when it holds none (no copy on the common path). */
function redactDeep(value: unknown, cookies: boolean, depth: number): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const redacted = redactDeep(item, cookies, depth + 1);
      if (redacted !== item) {
        copy ??= [...value];
        copy[i] = redacted;
      }
    });
    return copy ?? value;
  }
  const object = value as Record<string, unknown>;
  // A header as `{name, value}` (Fetch.continueRequest, Network.Headers entries): judge by the name.
  const headerLike = typeof object.name === 'string' && 'value' in object;
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    const item = object[key];
    let redacted: unknown;
    if (SECRET_NAME.test(key)) redacted = REDACTED;
    else if (key === 'value' && (cookies || (headerLike && SECRET_NAME.test(String(object.name))))) redacted = REDACTED;
    else redacted = redactDeep(item, cookies, depth + 1);
    if (redacted !== item) {
      copy ??= { ...object };
      copy[key] = redacted;
    }
  }
  return copy ?? object;
}

/** A command's params, safe to keep: the same object when nothing needed redacting. */
export function redactParams(method: string, params: Record<string, unknown>): Record<string, unknown> {
  let out = redactDeep(params, COOKIE_METHODS.test(method), 0) as Record<string, unknown>;
  if (method === 'Input.insertText' && 'text' in out) out = { ...out, text: REDACTED };
  if (method !== 'Input.dispatchKeyEvent') return out;
  out = { ...out };
  for (const field of ['text', 'unmodifiedText']) if (field in out) out[field] = REDACTED;
  // One character is typed text; a named key (Enter, Tab, ArrowDown) is not.
  if (typeof out.key === 'string' && [...out.key].length === 1) out.key = REDACTED;
  if (typeof out.code === 'string' && /^(Key|Digit)/.test(out.code)) out.code = REDACTED;
  return out;
}

/** A command's result, safe to keep: the same object when nothing needed redacting. */
export function redactResult(method: string, result: Record<string, unknown>): Record<string, unknown> {
  return redactDeep(result, COOKIE_METHODS.test(method), 0) as Record<string, unknown>;
}
