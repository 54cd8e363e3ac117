/** Bundle entry of the task-state function: `dist/lambda/task-state/index.cjs`, handler `index.handler`. */
export { taskStateHandler as handler } from '../handlers.js';
