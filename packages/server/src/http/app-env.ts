import type { Logger } from '@wallcrawler/contracts';
import type { ServerMetrics } from '../metrics.js';

/** Who is calling: the API key and the project the request is scoped to. */
export interface AuthContext {
  keyId: string;
  /** The projects the key covers, its default first. */
  projectIds: string[];
  /** The project this request acts on. */
  projectId: string;
}

/** Hono's typed `c.var` for every route. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    auth: AuthContext;
    /** Counts rejections by code (set for every request when the app has metrics). */
    metrics: ServerMetrics | undefined;
  };
}
