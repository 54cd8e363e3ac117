import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InvalidWebhookEndpointError } from '../domain/errors.js';

/** Addresses a webhook may not reach unless private targets are allowed: loopback, private, link-local and the like. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

function isPrivate(address: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is checked as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  return PRIVATE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Checks where a webhook may deliver: an http(s) URL whose host does not resolve to a loopback, private or
 * link-local address (unless `allowPrivate`, for tests and on-premises installs). Checked when a webhook is saved
 * and again before each delivery, since what a name resolves to can change.
 */
export class WebhookTargets {
  constructor(private readonly allowPrivate: boolean) {}

  /** @returns the endpoint, normalised. @throws InvalidWebhookEndpointError */
  async check(endpoint: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new InvalidWebhookEndpointError(`The webhook endpoint ${JSON.stringify(endpoint)} is not a URL.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidWebhookEndpointError(`The webhook endpoint must be an http(s) URL, not ${url.protocol}.`);
    }
    if (url.username || url.password) {
      throw new InvalidWebhookEndpointError('The webhook endpoint may not carry credentials.');
    }
    if (this.allowPrivate) return url.href;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new InvalidWebhookEndpointError(`The webhook endpoint's host ${host} does not resolve.`);
    }
    const refused = addresses.find(isPrivate);
    if (refused !== undefined) {
      throw new InvalidWebhookEndpointError(
        `The webhook endpoint's host ${host} resolves to ${refused}, a loopback, private or link-local address. ` +
          'Set WALLCRAWLER_WEBHOOKS_ALLOW_PRIVATE=true to allow private targets (tests, on-premises installs).',
      );
    }
    return url.href;
  }
}
