/**
 * @module
 * `@wallcrawler/controller/task`: the program a Fargate task runs (`wallcrawler-controller`, `task/main.ts`):
 * one session from the task's environment, or an idle warm-pool task waiting to be claimed. Exported for tests
 * and embedders that run a task's controller in a process of their own.
 */
export {
  type ControllerBaseConfig,
  type ControllerConfig,
  loadControllerConfig,
  loadControllerEnvironment,
  type SessionSettings,
} from './config.js';
export type { SessionPlacementReport, SessionReporter } from './session-reporter.js';
export {
  type RunningController,
  SessionNotPendingError,
  type StartControllerOptions,
  startController,
} from './standalone-controller.js';
export { runWarmPoolTask, type WarmPoolOutcome, type WarmPoolTaskOptions } from './warm-pool-task.js';
