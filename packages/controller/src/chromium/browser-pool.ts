import { randomBytes } from 'node:crypto';
import { type Logger, silentLogger } from '@wallcrawler/contracts';
import { pointProfileDownloadsAt } from '../downloads/download-watcher.js';
import { removeDirs, type SessionDirs, sessionDirs } from '../session-dirs.js';
import { type ChromiumProcess, launchChromium } from './launch-chromium.js';

type Viewport = { width: number; height: number };

/** A browser started ahead of a session, with the directories it runs in (they become the session's). */
export interface PooledBrowser {
  chromium: ChromiumProcess;
  dirs: SessionDirs;
  /** The viewport (and screen) it started with. */
  viewport: Viewport;
}

export interface BrowserPoolOptions {
  /** How many idle browsers to keep. 0 keeps none. */
  size: number;
  /** Pooled browsers' directories are session directories of this data dir (`pool-<id>`), reaped like theirs. */
  dataDir: string;
  executablePath: string;
  /**
   * The viewport the pool starts its first browsers with. A browser's viewport and screen are fixed at its start,
   * so a session is served only by a browser started with its viewport; the pool follows what sessions ask for
   * (see `take`).
   */
  viewport: Viewport;
  /** @default 30_000 */
  launchTimeoutMs?: number;
  /** @default true when running as root */
  noSandbox?: boolean;
  /**
   * How many browsers the host may still run besides its sessions' (its limit minus its sessions). The pool
   * never grows past it, and gives back idle browsers when a cold start needs the room.
   * @default unlimited
   */
  room?: () => number;
  /** Launch failures in a row after which the pool turns itself off. @default 3 */
  maxFailures?: number;
  /** Wait between failed launches. @default 1_000 */
  retryDelayMs?: number;
  /**
   * How long after handing out a browser the pool waits before starting its replacement: a Chromium start takes
   * most of a core for a moment, and the session that was just served needs it first (its client connects and
   * navigates now). @default 1_000
   */
  refillDelayMs?: number;
  logger?: Logger;
}

/** What the pool has done, for metrics. */
export interface BrowserPoolStats {
  /** Idle browsers ready to serve. */
  idle: number;
  /** Browsers being started for the pool. */
  starting: number;
  /** Takes waiting for one of those. */
  waiting: number;
  /** Sessions served by a pooled browser. */
  hits: number;
  /**
   * Sessions that started a browser of their own: the pool was empty, they needed something loaded before the
   * start (unfit), or they wanted a viewport the pool held no browser of.
   */
  misses: { empty: number; unfit: number; viewport: number };
  /** False once the pool turned itself off (or when its size is 0). */
  enabled: boolean;
}

/**
 * Chromium instances started before anyone asks for them, so that a session's create costs no browser start.
 *
 * A pooled browser has never served anyone: it serves exactly one session, whose close path kills it, so no
 * state can pass from one session to the next. The pool refills in the background, one browser at a time,
 * never on a create's path. A pool that cannot start browsers (three failures in a row) turns itself off with
 * one log line, and every create then starts its own browser.
 *
 * Browsers start with the viewport sessions ask for: each browser handed out is replaced by one of the same
 * viewport, and a session that finds none of its viewport has one idle browser of another viewport replaced by
 * one of its own. The pool's mix follows the demand, and a steady workload of one viewport is served from the
 * pool whatever that viewport is.
 */
export class BrowserPool {
  readonly #options: BrowserPoolOptions;
  readonly #logger: Logger;
  readonly #idle: PooledBrowser[] = [];
  /** Takes waiting for a browser being started (see `take`). */
  readonly #waiters: ((browser: PooledBrowser | undefined) => void)[] = [];
  #filling: Promise<void> | undefined;
  #refillTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #enabled: boolean;
  #failures = 0;
  #hits = 0;
  readonly #misses = { empty: 0, unfit: 0, viewport: 0 };
  /** The viewports of the next browsers to start, in order; then `#lastWanted`. */
  readonly #wanted: Viewport[] = [];
  #lastWanted: Viewport;
  /** The viewport of the browser being started, if one is (the pool starts one at a time). */
  #launching: Viewport | undefined;

  constructor(options: BrowserPoolOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'pool' });
    this.#enabled = options.size > 0;
    this.#lastWanted = options.viewport;
  }

  /** Browsers being started for the pool: 0 or 1. */
  get #starting(): number {
    return this.#launching ? 1 : 0;
  }

  get stats(): BrowserPoolStats {
    return {
      idle: this.#idle.length,
      starting: this.#starting,
      waiting: this.#waiters.length,
      hits: this.#hits,
      misses: { ...this.#misses },
      enabled: this.#enabled,
    };
  }

  get size(): number {
    return this.#enabled ? this.#options.size : 0;
  }

  /** The directories of the idle browsers (not anyone's session's). */
  idleRoots(): string[] {
    return this.#idle.map((b) => b.dirs.root);
  }

  /** Starts filling the pool, in the background. */
  start(): void {
    this.refill();
  }

  /**
   * Hands out an idle browser for a session, or undefined (a miss: the caller starts a browser of its own, and
   * idle browsers are given back if the host needs their room for it). `fits` is false for a session the pool
   * cannot serve (a profile or extensions to load before the start); a browser must also have the session's
   * viewport. Waits only when the pool has no such browser idle, one is starting, and the host has no room for
   * one more: that browser is then the session's as soon as it is up (sooner than a start of its own, and the
   * host's limit holds). The taken browser is the session's from here on; the pool refills.
   */
  async take({ viewport, fits = true }: { viewport: Viewport; fits?: boolean }): Promise<PooledBrowser | undefined> {
    if (!this.#enabled || this.#closed) return undefined;
    if (!fits) {
      this.#misses.unfit++;
      await this.#startOwn();
      return undefined;
    }
    // A browser that died idle may not have left the pool yet (its exit is on its way): it serves no one.
    const at = this.#idle.findIndex((b) => sameViewport(b.viewport, viewport) && !b.chromium.hasExited());
    let browser = at === -1 ? undefined : this.#idle.splice(at, 1)[0];
    if (!browser && this.#launching && sameViewport(this.#launching, viewport) && this.#mustWait()) {
      browser = await this.#next();
    }
    // Its replacement has the same viewport; a miss asks the pool for one of this viewport.
    this.#lastWanted = viewport;
    this.#wanted.push(viewport);
    if (this.#wanted.length > this.#options.size) this.#wanted.shift();
    if (browser) {
      this.#hits++;
      this.#refillLater();
      return browser;
    }
    const other = this.#idle.findIndex((b) => !sameViewport(b.viewport, viewport));
    if (other !== -1) {
      // The pool holds browsers, none of this viewport: one of them makes way for one of this viewport.
      this.#misses.viewport++;
      const [replaced] = this.#idle.splice(other, 1);
      if (replaced) await discard(replaced);
      this.#logger.debug({ viewport, replaced: replaced?.viewport }, 'an idle browser makes way for a new viewport');
      this.#refillLater();
    } else {
      this.#misses.empty++;
    }
    await this.#startOwn();
    return undefined;
  }

  /** Before a session starts a browser of its own: makes sure the host has the room for it. */
  async #startOwn(): Promise<void> {
    // A browser the pool is starting takes room this session's own browser needs: when the host has none to
    // spare, that browser is given back as soon as it is up.
    while (this.#mustWait()) {
      const unwanted = await this.#next();
      if (unwanted) await discard(unwanted);
    }
    await this.#makeRoom();
  }

  /** Tops the pool up in the background (after a session ended, room may have come back). */
  refill(): void {
    if (this.#filling || !this.#enabled || this.#closed) return;
    this.#filling = this.#fill().finally(() => {
      this.#filling = undefined;
    });
  }

  #refillLater(): void {
    if (this.#refillTimer) return;
    this.#refillTimer = setTimeout(() => {
      this.#refillTimer = undefined;
      this.refill();
    }, this.#options.refillDelayMs ?? 1_000);
    this.#refillTimer.unref();
  }

  /** Kills every idle browser and deletes its directories; the pool starts no more. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refillTimer);
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    await this.#filling;
    await Promise.all(this.#idle.splice(0).map((b) => discard(b)));
  }

  /** A browser the pool is starting, promised to no take yet, holds room the host does not have twice. */
  #mustWait(): boolean {
    return this.#starting > this.#waiters.length && this.#room() < this.#starting;
  }

  /** The next browser the pool starts (undefined if that start fails, or the pool closes). */
  #next(): Promise<PooledBrowser | undefined> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #room(): number {
    return this.#options.room?.() ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Gives back idle browsers past the host's room; resolves once they are gone, so that a browser started for
   * the room never runs beside the one it replaces.
   */
  async #makeRoom(): Promise<void> {
    const gone: Promise<void>[] = [];
    while (this.#idle.length > 0 && this.#idle.length + this.#starting > this.#room()) {
      const browser = this.#idle.pop() as PooledBrowser;
      gone.push(discard(browser));
      this.#logger.debug({ idle: this.#idle.length }, 'gave an idle browser back to make room');
    }
    await Promise.all(gone);
  }

  async #fill(): Promise<void> {
    while (
      this.#enabled &&
      !this.#closed &&
      this.#idle.length + this.#starting < this.#options.size &&
      this.#idle.length + this.#starting < this.#room()
    ) {
      const viewport = this.#wanted.shift() ?? this.#lastWanted;
      this.#launching = viewport;
      let browser: PooledBrowser | undefined;
      let failure: unknown;
      try {
        browser = await this.#launch(viewport);
      } catch (error) {
        failure = error;
      } finally {
        this.#launching = undefined;
      }
      if (!browser) {
        // A take waiting for this browser starts one of its own instead.
        this.#waiters.shift()?.(undefined);
        this.#failures++;
        if (this.#failures >= (this.#options.maxFailures ?? 3)) {
          this.#enabled = false;
          for (const waiter of this.#waiters.splice(0)) waiter(undefined);
          this.#logger.error(
            { err: failure, failures: this.#failures },
            `the warm pool is off: ${this.#failures} browser starts failed in a row (${(failure as Error).message}); sessions start their own browsers`,
          );
        } else {
          this.#logger.warn({ err: failure }, 'a browser for the warm pool did not start; retrying');
          await new Promise((resolve) => setTimeout(resolve, this.#options.retryDelayMs ?? 1_000));
        }
        continue;
      }
      this.#failures = 0;
      if (this.#closed) {
        await discard(browser);
        return;
      }
      const waiter = this.#waiters.shift();
      if (waiter) {
        waiter(browser);
        continue;
      }
      this.#idle.push(browser);
      // An idle browser that dies (OOM killer, a crash) leaves the pool, and is replaced.
      void browser.chromium.mainExited.then(() => {
        const at = this.#idle.indexOf(browser as PooledBrowser);
        if (at === -1) return;
        this.#idle.splice(at, 1);
        this.#logger.warn({ idle: this.#idle.length }, 'an idle browser exited; replacing it');
        void discard(browser as PooledBrowser);
        this.refill();
      });
      void this.#makeRoom();
    }
  }

  async #launch(viewport: Viewport): Promise<PooledBrowser> {
    const dirs = sessionDirs(this.#options.dataDir, `pool-${randomBytes(6).toString('hex')}`);
    try {
      // Downloads go to the session's downloads directory from the first one, as for a browser started for it.
      await pointProfileDownloadsAt(dirs.profile, dirs.downloads);
      const chromium = await launchChromium({
        cwd: dirs.root,
        executablePath: this.#options.executablePath,
        userDataDir: dirs.profile,
        tmpDir: dirs.tmp,
        viewport,
        logger: this.#logger,
        ...(this.#options.noSandbox !== undefined ? { noSandbox: this.#options.noSandbox } : {}),
        ...(this.#options.launchTimeoutMs !== undefined ? { launchTimeoutMs: this.#options.launchTimeoutMs } : {}),
      });
      return { chromium, dirs, viewport };
    } catch (error) {
      await removeDirs(dirs.root, dirs.tmp);
      throw error;
    }
  }
}

function sameViewport(a: Viewport, b: Viewport): boolean {
  return a.width === b.width && a.height === b.height;
}

async function discard({ chromium, dirs }: PooledBrowser): Promise<void> {
  await chromium.kill();
  await removeDirs(dirs.root, dirs.tmp);
}
