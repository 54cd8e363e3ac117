import type { Logger } from '@wallcrawler/contracts';
import pino from 'pino';

/** The server's logger: JSON lines on stdout (pino), at `level`. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'wallcrawler' } });
}
