/**
 * The live view: a page that shows one of the session's pages as a screencast (CDP `Page.startScreencast`) and
 * forwards the viewer's mouse, wheel and keys to it (`Input.dispatch*Event`), so that a person can watch or take
 * over. It needs no credential itself; the WebSocket it opens (from its `ws` parameter, as Chromium's DevTools
 * frontend takes it) carries the session's token and is authenticated by the gateway like any client. It can be
 * embedded in an iframe.
 */
export const LIVE_VIEW_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wallcrawler live view</title>
<style>
  html, body { margin: 0; height: 100%; background: #0f172a; color: #e2e8f0; font: 13px system-ui, sans-serif; }
  #screen { display: block; max-width: 100%; max-height: calc(100% - 24px); margin: 0 auto; outline: none; cursor: default; }
  #status { height: 24px; line-height: 24px; padding: 0 8px; color: #94a3b8; }
</style>
</head>
<body>
<div id="status">Connecting…</div>
<canvas id="screen" tabindex="0"></canvas>
<script>
(() => {
  const status = document.getElementById('status');
  const canvas = document.getElementById('screen');
  const context = canvas.getContext('2d');
  const target = new URLSearchParams(location.search).get('ws');
  if (!target) { status.textContent = 'This live view link has no ws parameter.'; return; }
  const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + target);
  let id = 0;
  let frames = 0;
  let metadata = { deviceWidth: 1, deviceHeight: 1 };
  const send = (method, params = {}) => socket.readyState === 1 && socket.send(JSON.stringify({ id: ++id, method, params }));

  socket.addEventListener('open', () => {
    status.textContent = 'Connected; waiting for the first frame…';
    send('Page.enable');
    send('Page.startScreencast', { format: 'jpeg', quality: 70, everyNthFrame: 1 });
  });
  socket.addEventListener('close', (event) => {
    status.textContent = 'Disconnected' + (event.reason ? ': ' + event.reason : '') + '.';
    document.body.dataset.live = 'closed';
  });
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.method !== 'Page.screencastFrame') return;
    const { data, metadata: meta, sessionId } = message.params;
    send('Page.screencastFrameAck', { sessionId });
    metadata = meta;
    const image = new Image();
    image.onload = () => {
      if (canvas.width !== image.width || canvas.height !== image.height) {
        canvas.width = image.width;
        canvas.height = image.height;
      }
      context.drawImage(image, 0, 0);
      frames++;
      document.body.dataset.frames = String(frames);
      document.body.dataset.live = 'streaming';
      status.textContent = 'Live: click, scroll and type to take over.';
    };
    image.src = 'data:image/jpeg;base64,' + data;
  });

  /** Canvas pixels to the page's CSS pixels. */
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * metadata.deviceWidth,
      y: ((event.clientY - box.top) / box.height) * metadata.deviceHeight,
    };
  };
  const buttons = ['left', 'middle', 'right'];
  const modifiers = (e) => (e.altKey ? 1 : 0) | (e.ctrlKey ? 2 : 0) | (e.metaKey ? 4 : 0) | (e.shiftKey ? 8 : 0);
  const mouse = (type, event, extra = {}) =>
    send('Input.dispatchMouseEvent', { type, ...point(event), modifiers: modifiers(event), ...extra });

  canvas.addEventListener('mousedown', (e) => {
    canvas.focus();
    mouse('mousePressed', e, { button: buttons[e.button] || 'left', clickCount: e.detail || 1 });
  });
  canvas.addEventListener('mouseup', (e) => mouse('mouseReleased', e, { button: buttons[e.button] || 'left', clickCount: e.detail || 1 }));
  canvas.addEventListener('mousemove', (e) => mouse('mouseMoved', e, { button: 'none' }));
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    mouse('mouseWheel', e, { deltaX: e.deltaX, deltaY: e.deltaY });
  }, { passive: false });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('keydown', (e) => {
    e.preventDefault();
    const text = e.key.length === 1 ? e.key : e.key === 'Enter' ? '\\r' : undefined;
    send('Input.dispatchKeyEvent', {
      type: text ? 'keyDown' : 'rawKeyDown',
      key: e.key,
      code: e.code,
      windowsVirtualKeyCode: e.keyCode,
      modifiers: modifiers(e),
      ...(text ? { text } : {}),
    });
  });
  canvas.addEventListener('keyup', (e) => {
    e.preventDefault();
    send('Input.dispatchKeyEvent', { type: 'keyUp', key: e.key, code: e.code, windowsVirtualKeyCode: e.keyCode, modifiers: modifiers(e) });
  });
})();
</script>
</body>
</html>`;
