/** A DevTools target as Chromium's `/json/list` describes it. */
export interface DevToolsTarget {
  id: string;
  type: string;
  title: string;
  url: string;
  faviconUrl?: string;
  webSocketDebuggerUrl?: string;
  devtoolsFrontendUrl?: string;
}
