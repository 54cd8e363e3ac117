import { readFileSync } from 'node:fs';
import os from 'node:os';
import { DomainError } from '../domain/errors.js';

/** This host runs all the browsers it can hold and its queue for the project is full, or the wait timed out. */
export class HostAtCapacityError extends DomainError {
  readonly code = 'host_at_capacity';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A slot for one browser on this host; give it back exactly once (more calls do nothing). */
export interface HostSlot {
  release(): void;
}

export interface HostAdmissionOptions {
  /** Browsers this host runs at once. */
  maxSessions: number;
  /** Creates that may wait for a slot, per project. */
  queueSize: number;
  /** How long a create waits for a slot before its 429. */
  queueTimeoutMs: number;
}

interface Waiter {
  resolve(slot: HostSlot): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * How many browsers this host runs at once, with a bounded wait for the creates past it. Each project has its
 * own FIFO queue and the queues are served in turn, so a project that fills its queue cannot starve another.
 * Past its queue or its wait, a create gets a 429 with `Retry-After`, and nothing is started or stored.
 */
export class HostAdmission {
  readonly #options: HostAdmissionOptions;
  #running = 0;
  /** Per-project queues, in the order projects are served next. */
  readonly #queues = new Map<string, Waiter[]>();

  constructor(options: HostAdmissionOptions) {
    this.#options = options;
  }

  get maxSessions(): number {
    return this.#options.maxSessions;
  }

  /** Slots in use, and creates waiting. */
  get stats(): { running: number; queued: number } {
    let queued = 0;
    for (const queue of this.#queues.values()) queued += queue.length;
    return { running: this.#running, queued };
  }

  /**
   * A slot for one of `projectId`'s browsers: at once while the host has room and no one waits, else after the
   * creates queued before it (in turn with other projects').
   * @throws HostAtCapacityError when the project's queue is full, or no slot came within the wait
   */
  acquire(projectId: string): Promise<HostSlot> {
    if (this.#running < this.#options.maxSessions && this.stats.queued === 0) {
      this.#running++;
      return Promise.resolve(this.#slot());
    }
    const queue = this.#queues.get(projectId) ?? [];
    const retryAfter = Math.max(1, Math.ceil(this.#options.queueTimeoutMs / 1000));
    if (queue.length >= this.#options.queueSize) {
      return Promise.reject(
        new HostAtCapacityError(
          `This host runs its limit of ${this.#options.maxSessions} browsers and ${queue.length} of this project's creates already wait for one. Retry later, or raise WALLCRAWLER_MAX_SESSIONS if the host can hold more.`,
          retryAfter,
        ),
      );
    }
    return new Promise<HostSlot>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const current = this.#queues.get(projectId);
          const index = current?.indexOf(waiter) ?? -1;
          if (current && index >= 0) current.splice(index, 1);
          if (current?.length === 0) this.#queues.delete(projectId);
          reject(
            new HostAtCapacityError(
              `No browser slot freed up on this host within ${this.#options.queueTimeoutMs / 1000} s (it runs its limit of ${this.#options.maxSessions}). Retry later.`,
              retryAfter,
            ),
          );
        }, this.#options.queueTimeoutMs),
      };
      waiter.timer.unref();
      queue.push(waiter);
      this.#queues.set(projectId, queue);
    });
  }

  #slot(): HostSlot {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#running--;
        this.#next();
      },
    };
  }

  /** Hands a freed slot to the first waiter of the next project in turn, which then goes to the back. */
  #next(): void {
    while (this.#running < this.#options.maxSessions) {
      const entry = this.#queues.entries().next();
      if (entry.done) return;
      const [projectId, queue] = entry.value;
      const waiter = queue.shift();
      this.#queues.delete(projectId);
      if (queue.length > 0) this.#queues.set(projectId, queue);
      if (!waiter) continue;
      clearTimeout(waiter.timer);
      this.#running++;
      waiter.resolve(this.#slot());
    }
  }
}

/** Reads a cgroup file (v2, then v1), or undefined. */
function cgroupValue(...paths: string[]): string | undefined {
  for (const path of paths) {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {}
  }
  return undefined;
}

/** The memory (bytes) and CPUs this process may use: the cgroup's limits when it has them, else the machine's. */
export function hostResources(): { memoryBytes: number; cpus: number } {
  let memoryBytes = os.totalmem();
  const memoryLimit = cgroupValue('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const limit = Number(memoryLimit);
  // v1 reports "no limit" as a huge number.
  if (memoryLimit && memoryLimit !== 'max' && Number.isFinite(limit) && limit > 0 && limit < memoryBytes) {
    memoryBytes = limit;
  }
  let cpus = os.availableParallelism();
  const cpuMax = cgroupValue('/sys/fs/cgroup/cpu.max');
  const [quota, period] = (cpuMax ?? '').split(/\s+/);
  if (quota && quota !== 'max' && Number(period) > 0) cpus = Math.min(cpus, Number(quota) / Number(period));
  const v1Quota = Number(cgroupValue('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const v1Period = Number(cgroupValue('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  if (v1Quota > 0 && v1Period > 0) cpus = Math.min(cpus, v1Quota / v1Period);
  return { memoryBytes, cpus: Math.max(cpus, 0.5) };
}

/** What one browser is assumed to need: a page of ordinary weight, with headroom. */
const MIB_PER_BROWSER = 256;
/** Kept for the server itself and the system. */
const RESERVED_MIB = 512;
/** Idle browsers cost little CPU; busy ones about a core. Eight per core is browserless's order of magnitude. */
const BROWSERS_PER_CPU = 8;

/** The default per-host limit: what the memory holds and the CPUs can serve, whichever is lower (at least 1). */
export function defaultMaxSessions({ memoryBytes, cpus } = hostResources()): number {
  const byMemory = Math.floor((memoryBytes / 2 ** 20 - RESERVED_MIB) / MIB_PER_BROWSER);
  const byCpu = Math.floor(cpus * BROWSERS_PER_CPU);
  return Math.max(1, Math.min(byMemory, byCpu));
}

/** What an idle pooled browser is assumed to hold, with headroom: it has one blank page. */
const MIB_PER_IDLE_BROWSER = 512;
/** More idle browsers than this buy nothing: the pool refills faster than sessions usually arrive. */
const MAX_DEFAULT_POOL = 4;

/**
 * The default warm pool: one idle browser per CPU (at most 4), as long as the memory free at start holds
 * them with room to spare (512 MiB each, besides 512 MiB kept back); 0 on a host too small for one.
 */
export function defaultPoolSize({ memoryBytes, cpus } = hostResources(), freeBytes = os.freemem()): number {
  // A cgroup's limit caps what is free to this process, whatever the machine has free.
  const free = Math.min(freeBytes, memoryBytes);
  const byMemory = Math.floor((free / 2 ** 20 - RESERVED_MIB) / MIB_PER_IDLE_BROWSER);
  return Math.max(0, Math.min(MAX_DEFAULT_POOL, Math.floor(cpus), byMemory));
}
