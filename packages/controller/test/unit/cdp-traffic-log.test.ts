import { describe, expect, it } from 'vitest';
import { CdpTrafficLog } from '../../src/logs/cdp-traffic-log.js';
import { REDACTED, redactParams, redactResult } from '../../src/logs/redaction.js';

describe('the CDP traffic log', () => {
  it('pairs an answer decoded before its command (each direction inflates on its own)', () => {
    const log = new CdpTrafficLog({ sessionId: 's', maxBytes: 1e6 });
    const sink = log.sink();
    sink.fromBrowser('{"id":7,"result":{"frameId":"F","loaderId":"L"}}');
    sink.fromClient('{"id":7,"method":"Page.navigate","params":{"url":"http://x"}}');
    expect(log.entries()).toEqual([
      expect.objectContaining({
        method: 'Page.navigate',
        frameId: 'F',
        loaderId: 'L',
        request: expect.objectContaining({ params: { url: 'http://x' } }),
        response: expect.objectContaining({ result: { frameId: 'F', loaderId: 'L' } }),
      }),
    ]);
  });

  it('keeps only a bounded number of unclaimed answers, and skips events and frame acks', () => {
    const log = new CdpTrafficLog({ sessionId: 's', maxBytes: 1e6 });
    const sink = log.sink();
    for (let id = 1; id <= 1000; id++) sink.fromBrowser(`{"id":${id},"result":{}}`);
    sink.fromBrowser('{"method":"Network.requestWillBeSent","params":{}}');
    sink.fromClient('{"id":1,"method":"Browser.getVersion"}');
    sink.fromClient('{"id":1000,"method":"Browser.getVersion"}');
    sink.fromClient('{"id":2000,"method":"Page.screencastFrameAck","params":{"sessionId":1}}');
    sink.fromBrowser('{"id":2000,"result":{}}');
    // id 1 was pushed out of the bounded early answers; 1000 was not.
    expect(log.entries().map((e) => e.method)).toEqual(['Browser.getVersion']);
  });

  it('maps flattened sessions to pages in the order pages appeared', () => {
    const log = new CdpTrafficLog({ sessionId: 's', maxBytes: 1e6 });
    const sink = log.sink();
    for (const [sid, tid] of [
      ['A', 'T1'],
      ['B', 'T2'],
    ]) {
      sink.fromBrowser(
        `{"method":"Target.attachedToTarget","params":{"sessionId":"${sid}","targetInfo":{"targetId":"${tid}","type":"page"}}}`,
      );
    }
    sink.fromClient('{"id":1,"method":"Runtime.evaluate","params":{"expression":"1"},"sessionId":"B"}');
    sink.fromBrowser('{"id":1,"result":{},"sessionId":"B"}');
    expect(log.entries()[0]?.pageId).toBe(1);
  });
});

describe('redaction', () => {
  it('hides credentials, cookie values and typed text, and leaves the rest as it was', () => {
    const headers = { headers: { Authorization: 'Bearer x', Accept: 'text/html' } };
    expect(redactParams('Network.setExtraHTTPHeaders', headers)).toEqual({
      headers: { Authorization: REDACTED, Accept: 'text/html' },
    });
    expect(
      redactParams('Fetch.continueRequest', {
        headers: [
          { name: 'Cookie', value: 'a=b' },
          { name: 'X-Trace', value: '1' },
        ],
      }),
    ).toEqual({
      headers: [
        { name: 'Cookie', value: REDACTED },
        { name: 'X-Trace', value: '1' },
      ],
    });
    expect(redactParams('Fetch.continueWithAuth', { authChallengeResponse: { username: 'u', password: 'p' } })).toEqual(
      {
        authChallengeResponse: { username: 'u', password: REDACTED },
      },
    );
    expect(redactResult('Network.getCookies', { cookies: [{ name: 'sid', value: 'v' }] })).toEqual({
      cookies: REDACTED,
    });
    expect(redactParams('Input.insertText', { text: 'hunter2' })).toEqual({ text: REDACTED });
    expect(redactParams('Input.dispatchKeyEvent', { type: 'keyDown', key: 'a', code: 'KeyA', text: 'a' })).toEqual({
      type: 'keyDown',
      key: REDACTED,
      code: REDACTED,
      text: REDACTED,
    });
    expect(redactParams('Input.dispatchKeyEvent', { type: 'keyDown', key: 'Enter', code: 'Enter' })).toEqual({
      type: 'keyDown',
      key: 'Enter',
      code: 'Enter',
    });
    const plain = { url: 'http://x', frameId: 'F' };
    expect(redactParams('Page.navigate', plain)).toBe(plain);
  });
});
