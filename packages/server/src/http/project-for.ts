import { ProjectNotAllowedError } from '../domain/errors.js';
import type { AppEnv } from './app-env.js';

/**
 * The body's `projectId`, if any, must be the request's project or another one the key covers (Browserbase
 * clients send the project they were configured with).
 */
export function projectFor(auth: AppEnv['Variables']['auth'], bodyProjectId: string | undefined): string {
  if (bodyProjectId === undefined || bodyProjectId === auth.projectId) return auth.projectId;
  if (!auth.projectIds.includes(bodyProjectId)) throw new ProjectNotAllowedError(bodyProjectId);
  return bodyProjectId;
}
