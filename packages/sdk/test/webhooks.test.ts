import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../src/index.js';

/** The signature as the server computes it (HMAC-SHA256 of `<t>.<body>`, keyed by the secret), built here by hand. */
const sign = (secret: string, t: number, body: string) =>
  createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');

const SECRET = 'whsec_test-secret-0123456789abcdefghijklmnopqrstuv';
const OLD = 'whsec_old-secret-0123456789abcdefghijklmnopqrstuvw';
const body = JSON.stringify({ id: 'evt_1', type: 'session.ended', data: { sessionId: 's', status: 'COMPLETED' } });
const t = 1_800_000_000;
const now = t * 1000 + 30_000;

describe('verifyWebhook', () => {
  it('accepts a delivery signed with the secret, from a string or bytes, and returns the event', async () => {
    const signature = `t=${t},v1=${sign(SECRET, t, body)}`;
    expect(await verifyWebhook({ payload: body, signature, secret: SECRET, now })).toEqual(JSON.parse(body));
    const bytes = new TextEncoder().encode(body);
    expect((await verifyWebhook({ payload: bytes, signature, secret: SECRET, now })).id).toBe('evt_1');
  });

  it('accepts either signature during a rotation, and either of several secrets', async () => {
    const signature = `t=${t},v1=${sign(SECRET, t, body)},v1=${sign(OLD, t, body)}`;
    expect((await verifyWebhook({ payload: body, signature, secret: OLD, now })).id).toBe('evt_1');
    expect((await verifyWebhook({ payload: body, signature, secret: SECRET, now })).id).toBe('evt_1');
    const oldOnly = `t=${t},v1=${sign(OLD, t, body)}`;
    expect((await verifyWebhook({ payload: body, signature: oldOnly, secret: [SECRET, OLD], now })).id).toBe('evt_1');
  });

  const refusals: [string, Partial<Parameters<typeof verifyWebhook>[0]>, RegExp][] = [
    ['another secret', { secret: OLD }, /No signature/],
    ['an altered body', { payload: body.replace('COMPLETED', 'ERROR') }, /No signature/],
    ['another timestamp', { signature: `t=${t + 1},v1=${sign(SECRET, t, body)}`, now }, /No signature/],
    ['a stale timestamp', { now: (t + 301) * 1000 }, /more than 300 s/],
    ['a timestamp from the future', { now: (t - 301) * 1000 }, /more than 300 s/],
    ['a stale timestamp under a shorter tolerance', { toleranceSeconds: 10 }, /more than 10 s/],
    ['no header', { signature: undefined }, /no x-wallcrawler-signature/],
    ['no timestamp', { signature: `v1=${sign(SECRET, t, body)}` }, /no timestamp/],
    ['no v1', { signature: `t=${t},v0=${sign(SECRET, t, body)}` }, /no v1/],
    ['a truncated signature', { signature: `t=${t},v1=${sign(SECRET, t, body).slice(0, 63)}` }, /no v1/],
    ['no secret', { secret: '' }, /No webhook secret/],
  ];
  it.each(refusals)('refuses %s', async (_, change, reason) => {
    const params = { payload: body, signature: `t=${t},v1=${sign(SECRET, t, body)}`, secret: SECRET, now, ...change };
    const error = await verifyWebhook(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect((error as Error).message).toMatch(reason);
  });
});
