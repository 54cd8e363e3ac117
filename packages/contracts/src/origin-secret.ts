/**
 * The header CloudFront adds to every request it sends the API (a custom origin header, with the stack's origin
 * secret), and the API checks (`AWS_API_ENV.originSecretArn`): only CloudFront knows the value, so a request
 * that did not pass through it cannot carry it.
 */
export const ORIGIN_SECRET_HEADER = 'x-wallcrawler-origin-secret';
