/** Bundle entry of the warm-pool scaler: `dist/lambda/warm-pool/index.cjs`, handler `index.handler`. */
export { warmPoolHandler as handler } from '../handlers.js';
