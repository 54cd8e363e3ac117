/** Progress lines on stderr, so stdout stays free and a long run shows where it is. */
const started = performance.now();

export function progress(phase: string, message: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${t}s] ${phase.padEnd(9)} ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
