import type { OpenAPIHono } from '@hono/zod-openapi';
import { ConnectAuthError, largeAnswerKey } from '@wallcrawler/contracts';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { hashApiKey } from '../api-keys.js';
import type { ProjectRecord, SessionRecord } from '../domain/model.js';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { answerOrRedirect, jsonOrRedirect } from '../http/large-answer.js';
import { zipDisposition } from '../http/zip-response.js';
import type { ConnectTokenSigner } from '../ports/connect-token-signer.js';
import type { LargeAnswers } from '../ports/large-answers.js';
import type { Store } from '../ports/store.js';
import type { SessionFiles } from '../services/session-files.js';
import type { SessionLifecycle } from '../services/session-lifecycle.js';
import type { SessionViews } from '../services/session-views.js';

const COOKIE = 'wallcrawler_dashboard';
/** A sign-in lasts a working day. */
const SIGN_IN_SECONDS = 12 * 3600;

export interface DashboardOptions {
  store: Store;
  lifecycle: SessionLifecycle;
  views: SessionViews;
  files: SessionFiles;
  signer: ConnectTokenSigner;
  gatewayUrl: (requestUrl: string) => string;
  /** Where answers too large for the front door go (AWS); without it, every answer is streamed. */
  largeAnswers?: LargeAnswers | undefined;
}

const STYLE = raw(`<style>
  body { margin: 0; font: 14px system-ui, sans-serif; background: #f8fafc; color: #0f172a; }
  header { display: flex; align-items: center; justify-content: space-between; padding: 12px 24px; background: #0f172a; color: #f8fafc; }
  header h1 { font-size: 16px; margin: 0; }
  main { padding: 24px; max-width: 1100px; margin: 0 auto; }
  table { width: 100%; border-collapse: collapse; background: white; }
  th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid #e2e8f0; font-size: 13px; }
  th { background: #f1f5f9; }
  code { font-size: 12px; }
  .status { font-weight: 600; }
  .RUNNING { color: #15803d; } .ERROR { color: #b91c1c; } .TIMED_OUT { color: #b45309; } .COMPLETED { color: #475569; }
  form.inline { display: inline; }
  button, input[type=submit] { font: inherit; padding: 6px 12px; cursor: pointer; }
  .card { max-width: 420px; margin: 80px auto; background: white; padding: 24px; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
  .card input[type=password] { width: 100%; box-sizing: border-box; padding: 8px; margin: 8px 0 16px; font: inherit; }
  .error { color: #b91c1c; }
  a { color: #1d4ed8; }
</style>`);

function page(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>${STYLE}</head>
<body>${body}</body>
</html>`;
}

function signInPage(error?: string) {
  return page(
    'Wallcrawler: sign in',
    html`<div class="card">
  <h1>Wallcrawler</h1>
  <form method="post" action="dashboard/sign-in">
    <label for="apiKey">API key</label>
    <input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required autofocus>
    ${error ? html`<p class="error" id="error">${error}</p>` : ''}
    <input type="submit" value="Sign in">
  </form>
  <p>The key is sent once, in this form; the dashboard then keeps an HttpOnly cookie.</p>
</div>`,
  );
}

function sessionRow(s: SessionRecord) {
  const running = s.status === 'RUNNING';
  const base = `dashboard/sessions/${encodeURIComponent(s.id)}`;
  return html`<tr data-session="${s.id}">
  <td><code>${s.id}</code></td>
  <td class="status ${s.status}">${s.status}</td>
  <td>${s.createdAt.toISOString().replace('T', ' ').slice(0, 19)}</td>
  <td>${s.endedAt ? s.endedAt.toISOString().replace('T', ' ').slice(0, 19) : ''}</td>
  <td>
    ${running ? html`<a class="live" href="${base}/live" target="_blank">live view</a> · ` : ''}
    <a class="replay" href="${base}/replay" target="_blank">replay</a> ·
    <a class="logs" href="${base}/logs" target="_blank">logs</a> ·
    <a class="downloads" href="${base}/downloads">downloads</a>
  </td>
</tr>`;
}

function sessionsPage(project: ProjectRecord, sessions: SessionRecord[]) {
  return page(
    `Wallcrawler: ${project.name}`,
    html`<header><h1>Wallcrawler · ${project.name}</h1>
<form class="inline" method="post" action="dashboard/sign-out"><button type="submit">Sign out</button></form></header>
<main>
  <h2>Sessions</h2>
  ${
    sessions.length === 0
      ? html`<p>No sessions yet.</p>`
      : html`<table id="sessions"><thead><tr><th>Session</th><th>Status</th><th>Created (UTC)</th><th>Ended (UTC)</th><th></th></tr></thead>
  <tbody>${sessions.map(sessionRow)}</tbody></table>`
  }
</main>`,
  );
}

/**
 * The dashboard at `/`, for a person: sign in with an API key (sent once, in a form; an HttpOnly cookie
 * after that, never the key in a URL), then the project's sessions with their status, and for each its live
 * view, replay, logs and downloads. Server-rendered, no script of its own.
 */
export function registerDashboard(
  app: OpenAPIHono<AppEnv>,
  { store, lifecycle, views, files, signer, gatewayUrl, largeAnswers }: DashboardOptions,
) {
  /** The signed-in key and its default project, or undefined. A revoked key signs the person out. */
  const signedIn = async (c: Context<AppEnv>) => {
    const token = getCookie(c, COOKIE);
    if (!token) return undefined;
    try {
      const claims = await signer.verify(token, 'dashboard');
      const key = await store.findApiKeyByHash(claims.sessionId);
      const projectId = key?.projectIds[0];
      if (!key || key.revokedAt || !projectId || projectId !== claims.projectId) return undefined;
      return { projectId };
    } catch (error) {
      if (error instanceof ConnectAuthError) return undefined;
      throw error;
    }
  };
  const requireSignIn = async (c: Context<AppEnv>) => {
    const auth = await signedIn(c);
    if (!auth) throw new ApiError(401, 'not_signed_in', 'Sign in to the dashboard first (at /).');
    return auth;
  };
  const secure = (c: Context<AppEnv>) => new URL(gatewayUrl(c.req.url)).protocol === 'https:';

  app.get('/', async (c) => {
    const auth = await signedIn(c);
    if (!auth) {
      const failed = c.req.query('signin');
      const why =
        failed === 'revoked' ? 'That API key has been revoked.' : failed ? 'That API key is not valid.' : undefined;
      return c.html(signInPage(why), 200, { 'cache-control': 'no-store' });
    }
    const project = await store.getProject(auth.projectId);
    if (!project) return c.html(signInPage('The project of this key no longer exists.'), 200);
    const list = await lifecycle.list(auth.projectId, {});
    return c.html(sessionsPage(project, list.slice(0, 200)), 200, { 'cache-control': 'no-store' });
  });

  app.post('/dashboard/sign-in', async (c) => {
    const form = await c.req.parseBody();
    const apiKey = typeof form.apiKey === 'string' ? form.apiKey.trim() : '';
    const key = apiKey ? await store.findApiKeyByHash(hashApiKey(apiKey)) : undefined;
    const projectId = key?.projectIds[0];
    // Back to the form, with why (never the key) in the URL: the form's relative paths hold from `/` only.
    if (!key || key.revokedAt || !projectId)
      return c.redirect(`../?signin=${key?.revokedAt ? 'revoked' : 'invalid'}`, 303);
    const token = await signer.sign(
      { sessionId: key.hash, projectId, expiresAt: new Date(Date.now() + SIGN_IN_SECONDS * 1000) },
      undefined,
      'dashboard',
    );
    setCookie(c, COOKIE, token, {
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      maxAge: SIGN_IN_SECONDS,
      secure: secure(c),
    });
    return c.redirect('../', 303);
  });

  app.post('/dashboard/sign-out', (c) => {
    deleteCookie(c, COOKIE, { path: '/' });
    return c.redirect('../', 303);
  });

  app.get('/dashboard/sessions/:id/live', async (c) => {
    const { projectId } = await requireSignIn(c);
    const urls = await views.liveUrls(projectId, c.req.param('id'), gatewayUrl(c.req.url), 3600);
    if (!urls.debuggerFullscreenUrl) throw new ApiError(409, 'no_page', 'The session has no page to show.');
    return c.redirect(urls.debuggerFullscreenUrl, 302);
  });

  app.get('/dashboard/sessions/:id/replay', async (c) => {
    const { projectId } = await requireSignIn(c);
    const { pages } = await views.replays(projectId, c.req.param('id'), gatewayUrl(c.req.url), 3600);
    const first = pages[0];
    if (!first) throw new ApiError(404, 'no_recording', 'Nothing was recorded for this session.');
    return c.redirect(first.url, 302);
  });

  app.get('/dashboard/sessions/:id/logs', async (c) => {
    const { projectId } = await requireSignIn(c);
    const id = c.req.param('id');
    // Redirected to a stored copy past the front door's limit, as the API's own answers are.
    return jsonOrRedirect(c, [...(await files.logs(projectId, id))], {
      key: (tag) => largeAnswerKey('logs', id, tag, 'json'),
      large: largeAnswers,
    });
  });

  app.get('/dashboard/sessions/:id/downloads', async (c) => {
    const { projectId } = await requireSignIn(c);
    const id = c.req.param('id');
    return answerOrRedirect(c, await files.downloadsZip(projectId, id), {
      contentType: 'application/zip',
      contentDisposition: zipDisposition(id),
      key: (tag) => largeAnswerKey('downloads', id, tag, 'zip'),
      large: largeAnswers,
    });
  });
}
