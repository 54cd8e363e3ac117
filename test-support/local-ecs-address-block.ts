/**
 * The local ECS endpoint's address blocks: each endpoint's tasks get loopback addresses of a 127.x.y.0/24 block of
 * its own, so that tasks of endpoints in parallel test processes never share an address and its port 9223.
 */
import { randomInt } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';

/**
 * Reserves a 127.x.y.0/24 block for one endpoint's tasks by listening on its `.254:9223` for the endpoint's
 * life: a block whose sentinel is taken belongs to someone else.
 */
export async function claimAddressBlock(): Promise<{ prefix: string; release(): void }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const prefix = `127.${1 + randomInt(250)}.${randomInt(250)}`;
    const sentinel = createNetServer();
    const taken = await new Promise<boolean>((resolve) => {
      sentinel.once('error', () => resolve(true));
      sentinel.listen(9223, `${prefix}.254`, () => resolve(false));
    });
    if (!taken) return { prefix, release: () => sentinel.close() };
  }
  throw new Error('No free 127.x.y.0/24 block for local ECS tasks');
}
