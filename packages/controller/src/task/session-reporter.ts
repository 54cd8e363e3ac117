import type { SessionEnding } from '@wallcrawler/contracts';

/** Where a running session's browser is reached. */
export interface SessionPlacementReport {
  /** `ws://host:port` of this controller's CDP proxy. */
  connectEndpoint: string;
  taskArn?: string;
}

/** Whether a session keeps its CDP log and its recording. */
export interface SessionKeeps {
  logs: boolean;
  recording: boolean;
}

/**
 * Where a controller reports its session's status: the store the API reads, in a Fargate task. The API never
 * waits for a message from the task; it reads what the task wrote here.
 */
export interface SessionReporter {
  /** Whether the session still waits for its browser (PENDING); false once it has ended or is missing. */
  isPending(): Promise<boolean>;
  /**
   * PENDING → RUNNING, with where clients reach the browser. Called only once Chromium and the proxy are up.
   * @returns false when the session is no longer PENDING (it ended meanwhile): the browser must not serve it.
   */
  running(placement: SessionPlacementReport): Promise<boolean>;
  /** Records the ending; the first ending recorded wins. */
  ended(ending: SessionEnding): Promise<void>;
  /**
   * What the session keeps of itself besides its downloads, as its record says (the API wrote it at admission);
   * absent means both.
   */
  keeps?(): Promise<SessionKeeps>;
  /** Records the bytes through the session's proxies so far, while it runs; a smaller count never overwrites. */
  proxyBytes?(bytes: number): Promise<void>;
}
