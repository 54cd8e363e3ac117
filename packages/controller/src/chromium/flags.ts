/**
 * Every command-line flag Wallcrawler passes to Chromium, each with the reason it is there. Every Chromium start
 * (a session's, the warm pool's, a warm-pool task's) goes through `launchChromium`, which takes its arguments from
 * here and adds none: what varies comes in as options (the session's forward proxy as `proxyServer`, an embedder's
 * own flags as `extraArgs`, appended last). So this file is the whole answer to "how is the browser started?".
 */

export interface ChromiumFlagOptions {
  /** The session's profile directory. */
  userDataDir: string;
  /** The page viewport (and screen size) in CSS pixels. */
  viewport: { width: number; height: number };
  /**
   * Turn off Chromium's sandbox. Chromium refuses to start as root with the sandbox on, and most containers lack
   * the user namespaces it needs.
   * @default true when running as root
   */
  noSandbox: boolean;
  /** Unpacked extensions to load, by directory. */
  extensionDirs?: readonly string[];
  /**
   * The session's own forward proxy (`http://127.0.0.1:<port>`), for sessions with proxies of the user's; it adds
   * the upstream credentials itself (see `proxy/forward-proxy.ts`).
   */
  proxyServer?: string | undefined;
  /** Extra flags from the operator, appended last so they can override ours. */
  extraArgs?: readonly string[];
}

/** The flags for one session's browser. */
export function chromiumFlags({
  userDataDir,
  viewport,
  noSandbox,
  extensionDirs = [],
  proxyServer,
  extraArgs = [],
}: ChromiumFlagOptions): string[] {
  return [
    // The new headless mode is the real browser without a window: same rendering and CDP surface as headed Chrome.
    '--headless=new',
    // Only our proxy talks to DevTools. Port 0 lets the kernel pick a free port, which Chromium prints on stderr.
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    // One profile per session, so sessions share no cookies, storage or cache.
    `--user-data-dir=${userDataDir}`,
    // The viewport, exactly. New headless lays out an invisible tab strip and toolbar, so --window-size alone
    // leaves pages ~140 px shorter than asked. Kiosk mode drops that UI and sizes every window (new tabs and
    // new contexts too) to the screen, which --screen-info sets; screen.width/height then agree with it.
    '--kiosk',
    `--screen-info={${viewport.width}x${viewport.height}}`,
    `--window-size=${viewport.width},${viewport.height}`,
    ...(noSandbox ? ['--no-sandbox'] : []),
    // Containers give /dev/shm 64 MB; Chromium would crash renderers once it fills. Use /tmp instead.
    '--disable-dev-shm-usage',
    // No GPU on servers; software compositing avoids a GPU process that fails and relaunches.
    '--disable-gpu',
    // First-run dialogs, default-browser prompts and the search-engine chooser would block automation.
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-search-engine-choice-screen',
    // Background traffic to Google: useless in a session, and on closed networks every attempt fails and
    // is retried. Component updates would also write into the profile at random times.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-domain-reliability',
    '--disable-client-side-phishing-detection',
    '--disable-default-apps',
    '--metrics-recording-only',
    // Crash reports go nowhere from a server. (Chromium 156 still starts its chrome_crashpad_handler processes,
    // which leave the browser's process group; the subreaper adopts and ends them with the session.)
    '--disable-crash-reporter',
    '--disable-breakpad',
    // Automation drives background tabs too: do not throttle their timers or deprioritise their renderers.
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    '--disable-renderer-backgrounding',
    // A slow page must not make Chromium pop a "page unresponsive" dialog or kill the renderer.
    '--disable-hang-monitor',
    // Heavy CDP traffic (screenshots, DOM snapshots) trips the IPC flood protection and stalls the page.
    '--disable-ipc-flooding-protection',
    // Modal prompts that no one can answer in a remote browser.
    '--disable-prompt-on-repost',
    '--disable-popup-blocking',
    // Stable colours in screenshots, whatever the host's display profile.
    '--force-color-profile=srgb',
    // Keep passwords out of the host keyring; the profile is thrown away anyway.
    '--password-store=basic',
    '--use-mock-keychain',
    // Features that phone home or draw UI no one sees: translate bubbles, media router discovery, optimization
    // hints, and the WebUI toolbar pieces (omnibox popups, reload button), which otherwise cost every session an
    // extra ~150 MB renderer and two `browser_ui` targets.
    '--disable-features=Translate,MediaRouter,OptimizationHints,AcceptCHFrame,DialMediaRouteProvider,WebUIReloadButton,WebUIOmniboxPopup,WebUIOmniboxAimPopup',
    // Built-in extensions with background pages would start an extension process per session.
    '--disable-component-extensions-with-background-pages',
    // No audio device on servers.
    '--mute-audio',
    // The session's uploaded extensions, and no others. (A comma in a path would split it: the directories are
    // the session's own, named by ids.)
    ...(extensionDirs.length > 0
      ? [`--load-extension=${extensionDirs.join(',')}`, `--disable-extensions-except=${extensionDirs.join(',')}`]
      : []),
    // All of the page's traffic through the session's forward proxy, which picks the upstream route per host. The
    // browser never sees the upstream's credentials, so it never prompts for them.
    ...(proxyServer ? [`--proxy-server=${proxyServer}`] : []),
    ...extraArgs,
    // The first tab, so clients that attach to an existing page find one.
    'about:blank',
  ];
}
