import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ConnectAuthError, largeAnswerKey } from '@wallcrawler/contracts';
import { packageDirectory } from '@wallcrawler/controller';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { jsonOrRedirect } from '../http/large-answer.js';
import type { ConnectTokenSigner } from '../ports/connect-token-signer.js';
import type { LargeAnswers } from '../ports/large-answers.js';
import type { SessionFiles } from '../services/session-files.js';

/** rrweb-player's browser bundle and stylesheet, read on first use. */
let player: { js: string; css: string } | undefined;
function playerAssets(): { js: string; css: string } {
  if (!player) {
    const dist = join(packageDirectory(import.meta.url, 'rrweb-player'), 'dist');
    player = {
      js: readFileSync(join(dist, 'rrweb-player.umd.min.cjs'), 'utf8'),
      css: readFileSync(join(dist, 'style.min.css'), 'utf8'),
    };
  }
  return player;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function replayHtml(sessionId: string, pageId: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Replay of session ${escapeHtml(sessionId)}, page ${escapeHtml(pageId)}</title>
<link rel="stylesheet" href="../assets/rrweb-player.css">
<style>
  body { margin: 0; padding: 16px; background: #0f172a; color: #e2e8f0; font: 14px system-ui, sans-serif; }
  h1 { font-size: 16px; font-weight: 600; margin: 0 0 12px; }
  #status { color: #94a3b8; }
</style>
</head>
<body>
<h1>Session ${escapeHtml(sessionId)} · page ${escapeHtml(pageId)}</h1>
<p id="status">Loading the recording…</p>
<div id="player"></div>
<script src="../assets/rrweb-player.js"></script>
<script>
(async () => {
  const status = document.getElementById('status');
  try {
    const response = await fetch(location.pathname + '/events' + location.search);
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || response.statusText);
    if (body.length < 2) { status.textContent = 'Nothing was recorded for this page.'; return; }
    const meta = body.find((e) => e.type === 4);
    const width = Math.min(meta?.data?.width || 1024, window.innerWidth - 32);
    const height = Math.round(width * ((meta?.data?.height || 768) / (meta?.data?.width || 1024)));
    const Player = rrwebPlayer.default || rrwebPlayer;
    new Player({ target: document.getElementById('player'), props: { events: body, width, height, autoPlay: true } });
    status.textContent = body.length + ' events, ' + Math.round((body[body.length - 1].timestamp - body[0].timestamp) / 1000) + ' s';
    document.body.dataset.replay = 'ready';
  } catch (error) {
    status.textContent = 'The recording could not be loaded: ' + error.message;
    document.body.dataset.replay = 'failed';
  }
})();
</script>
</body>
</html>`;
}

/**
 * The replay page of a recorded session page, and the player it loads. Outside `/v1`: the page is opened by a
 * person (a `replays` URL, the dashboard), authenticated by the view-only token in its URL, and may be embedded
 * in an iframe.
 */
export function registerReplayPages(
  app: OpenAPIHono<AppEnv>,
  {
    files,
    signer,
    largeAnswers,
  }: { files: SessionFiles; signer: ConnectTokenSigner; largeAnswers?: LargeAnswers | undefined },
) {
  const cached = { 'cache-control': 'public, max-age=86400' };
  app.get('/assets/rrweb-player.js', (c) =>
    c.body(playerAssets().js, 200, { 'content-type': 'text/javascript; charset=utf-8', ...cached }),
  );
  // Browsers ask for it on every page; an empty answer keeps their consoles clean.
  app.get('/favicon.ico', (c) => c.body(null, 204, cached));
  app.get('/assets/rrweb-player.css', (c) =>
    c.body(playerAssets().css, 200, { 'content-type': 'text/css; charset=utf-8', ...cached }),
  );

  /** The view token's claims, for this session only. */
  const authorize = async (sessionId: string, token: string | undefined) => {
    try {
      const claims = await signer.verify(token, 'view');
      if (claims.sessionId !== sessionId) {
        throw new ApiError(403, 'token_session_mismatch', 'The token belongs to another session.');
      }
      return claims;
    } catch (error) {
      if (error instanceof ConnectAuthError) {
        const message =
          error.code === 'token_expired'
            ? 'This replay link has expired: get a new one from GET /v1/sessions/{id}/replays.'
            : error.code === 'missing_token'
              ? 'This replay link needs its token (?token=...): get one from GET /v1/sessions/{id}/replays.'
              : 'This replay link is not valid: get a new one from GET /v1/sessions/{id}/replays.';
        throw new ApiError(401, error.code, message);
      }
      throw error;
    }
  };

  app.get('/replay/:id', async (c) => {
    const id = c.req.param('id');
    await authorize(id, c.req.query('token'));
    return c.html(replayHtml(id, c.req.query('page') ?? '0'), 200, { 'cache-control': 'no-store' });
  });

  app.get('/replay/:id/events', async (c) => {
    const id = c.req.param('id');
    const claims = await authorize(id, c.req.query('token'));
    const page = c.req.query('page') ?? '0';
    const events = (await files.recording(claims.projectId, id)).filter((e) => e.pageId === page);
    // A page whose events pass the front door's limit is fetched from the bucket (its CORS rule lets the page).
    return jsonOrRedirect(
      c,
      events.map((e) => ({ type: e.type, data: e.data, timestamp: e.timestamp })),
      {
        key: (tag) => largeAnswerKey('recordings', id, tag, 'json'),
        large: largeAnswers,
        headers: { 'cache-control': 'no-store' },
      },
    );
  });
}
