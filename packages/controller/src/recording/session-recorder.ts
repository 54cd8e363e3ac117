import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger, RecordedEvent } from '@wallcrawler/contracts';
import type { CdpClient, CdpEvent } from '../cdp/cdp-client.js';
import { packageDirectory } from '../package-files.js';

export interface SessionRecorderOptions {
  /** The most the kept events may add up to; past it the recording stops (a replay needs its beginning). */
  maxBytes: number;
  logger: Logger;
}

/** The isolated world the recorder runs in: the page's own scripts never see it. */
const WORLD = 'wallcrawler-recorder';
const BINDING = '__wallcrawlerRecord';

let recorderScript: string | undefined;

/**
 * rrweb distrusts the page's DOM prototypes (a page may have patched them) and, when its check fails, fetches
 * pristine ones from a hidden iframe it adds to the page. Its check always fails for `Element` (it tests
 * `querySelector` as if it were a getter), so every document got an iframe created, appended to its body and
 * removed, which cost most of the recorder's time on the page's main thread (about 100 ms per navigation
 * here) and touched the page's DOM. The recorder runs in an isolated world, whose prototypes the page cannot
 * reach, so the world's own are pristine: this makes rrweb (2.1.6, pinned) use them. When the bundle does not
 * have the expected shape, it is left as it is.
 */
function useOwnPrototypes(bundle: string): string {
  const check = /if\((\w+)&&(\w+)&&!(\w+)\(\)\)return (\w+)\[(\w+)\]=(\w+)\.prototype,\6\.prototype;/;
  return bundle.replace(check, 'return $4[$5]=$6.prototype,$6.prototype;');
}

/**
 * rrweb asks `customElements.get(tag)` of every element it serializes, inside a try. An isolated world has no
 * custom element registry (`customElements` is null there), so each element threw and caught a TypeError: about
 * 40 ms of a 400-element page's load here, more than the rest of the snapshot. The answer in this world is
 * always "not custom", so the patched bundle skips the call when there is no registry, and records the same.
 * When the bundle does not have the expected shape, it is left as it is.
 */
function skipMissingRegistry(bundle: string): string {
  const lookup = /try\{customElements\.get\((\w+)\)&&\((\w+)=!0\)\}/;
  return bundle.replace(lookup, 'try{customElements&&customElements.get($1)&&($2=!0)}');
}

/** rrweb's browser bundle, and the lines that start recording into the binding. Read once. */
function script(): string {
  if (recorderScript) return recorderScript;
  // rrweb's recorder alone (`@rrweb/record`, 77 KB): the full rrweb bundle (266 KB) also carries the replayer,
  // and a page pays for every byte of it on its main thread.
  const bundle = skipMissingRegistry(
    useOwnPrototypes(
      readFileSync(join(packageDirectory(import.meta.url, '@rrweb/record'), 'dist', 'record.umd.min.cjs'), 'utf8'),
    ),
  );
  recorderScript = `${bundle}
;(() => {
  if (globalThis.__wallcrawlerRecording || typeof rrwebRecord === 'undefined' || typeof ${BINDING} !== 'function') return;
  // Only real documents: about:blank and friends have nothing to replay (and rrweb loops on an empty one).
  if (!/^(https?|file):$/.test(location.protocol)) return;
  globalThis.__wallcrawlerRecording = true;
  rrwebRecord.record({
    emit: (event) => ${BINDING}(JSON.stringify(event)),
    sampling: { mousemove: 50, scroll: 150, input: 'last' },
    maskAllInputs: false,
    maskInputOptions: { password: true },
  });
})();`;
  return recorderScript;
}

/**
 * Records every page of a browser with rrweb, from the session's own CDP connection: it auto-attaches to each
 * page (new ones wait for it, a few milliseconds), adds a binding and rrweb's recorder to an isolated world of
 * every document, and collects what the recorder emits. Password fields are masked.
 */
export class SessionRecorder {
  readonly #events: RecordedEvent[] = [];
  readonly #options: SessionRecorderOptions;
  readonly #cdp: CdpClient;
  /** CDP session → page id. */
  readonly #pages = new Map<string, string>();
  #pageCount = 0;
  #bytes = 0;
  #full = false;

  private constructor(cdp: CdpClient, options: SessionRecorderOptions) {
    this.#cdp = cdp;
    this.#options = options;
    cdp.on('event', (event) => this.#onEvent(event));
  }

  static async start(cdp: CdpClient, options: SessionRecorderOptions): Promise<SessionRecorder> {
    script();
    const recorder = new SessionRecorder(cdp, options);
    await cdp.send('Target.setAutoAttach', {
      autoAttach: true,
      waitForDebuggerOnStart: true,
      flatten: true,
      filter: [{ type: 'page', exclude: false }, { exclude: true }],
    });
    return recorder;
  }

  /** The events so far, in the order they came. */
  events(): RecordedEvent[] {
    return [...this.#events];
  }

  #onEvent({ method, params, sessionId }: CdpEvent): void {
    if (method === 'Target.attachedToTarget') {
      const info = params.targetInfo as { type?: string } | undefined;
      const child = String(params.sessionId);
      if (info?.type !== 'page') {
        void this.#cdp.send('Runtime.runIfWaitingForDebugger', {}, child).catch(() => {});
        return;
      }
      this.#pages.set(child, String(this.#pageCount++));
      void this.#instrument(child);
    } else if (method === 'Runtime.bindingCalled' && params.name === BINDING && sessionId) {
      this.#record(sessionId, String(params.payload));
    } else if (method === 'Target.detachedFromTarget') {
      this.#pages.delete(String(params.sessionId));
    }
  }

  async #instrument(sessionId: string): Promise<void> {
    const send = (method: string, params: Record<string, unknown> = {}) => this.#cdp.send(method, params, sessionId);
    // Sent together, not one after another: a new page waits for its debuggers, and some of these (Page.enable)
    // are only answered once it runs. The wire keeps their order, so the script is in place before it resumes.
    const results = await Promise.allSettled([
      send('Runtime.addBinding', { name: BINDING, executionContextName: WORLD }),
      send('Runtime.enable'),
      // Scripts for new documents are only injected into pages whose Page domain is on.
      send('Page.enable'),
      // At document start, so that a page released right after its load is still recorded. (Started at load
      // instead, rrweb's setup only moved its ~100 ms from before `load` to the page's next command.)
      send('Page.addScriptToEvaluateOnNewDocument', { source: script(), worldName: WORLD, runImmediately: true }),
      send('Runtime.runIfWaitingForDebugger'),
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed)
      this.#options.logger.debug({ err: (failed as PromiseRejectedResult).reason }, 'a page could not be recorded');
  }

  #record(sessionId: string, payload: string): void {
    if (this.#full) return;
    const pageId = this.#pages.get(sessionId);
    if (pageId === undefined) return;
    this.#bytes += payload.length;
    if (this.#bytes > this.#options.maxBytes) {
      this.#full = true;
      this.#options.logger.warn(
        { maxBytes: this.#options.maxBytes },
        'the recording reached its size limit and stopped',
      );
      return;
    }
    try {
      const event = JSON.parse(payload) as { type: number; timestamp: number; data: unknown };
      this.#events.push({ type: event.type, timestamp: event.timestamp, data: event.data, pageId });
    } catch {}
  }
}
