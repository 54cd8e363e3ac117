/** Bundle entry of the task-state function: `dist/lambda/task-state.cjs`, handler `task-state.handler`. */
export { taskStateHandler as handler } from '../lambda.js';
