/** Bundle entry of the API function: `dist/lambda/api/index.cjs`, handler `index.handler`. */
export { apiHandler as handler } from '../handlers.js';
