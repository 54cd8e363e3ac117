/** Bundle entry of the API function: `dist/lambda/api.cjs`, handler `api.handler`. */
export { apiHandler as handler } from '../lambda.js';
