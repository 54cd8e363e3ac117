import type Browserbase from '@browserbasehq/sdk';
import { toFile } from '@browserbasehq/sdk';

/**
 * A call of each `@browserbasehq/sdk` 2.21 method on the resources Wallcrawler does not serve, with what its 501's
 * message must name. `browserbase-sdk-not-supported.test.ts` makes them; `sdk-methods-table.test.ts` checks that
 * docs/compatibility.md marks each of them `501 not_supported`.
 */
export const NOT_SUPPORTED_CALLS: Record<string, { gap: RegExp; call: (bb: Browserbase) => Promise<unknown> }> = {
  'certificates.create': {
    gap: /Certificates/,
    call: async (bb) => bb.certificates.create({ file: await toFile(Buffer.from('-----BEGIN'), 'client.pem') }),
  },
  'certificates.retrieve': { gap: /Certificates/, call: (bb) => bb.certificates.retrieve('cert-1') },
  'certificates.list': { gap: /Certificates/, call: (bb) => bb.certificates.list() },
  'certificates.delete': { gap: /Certificates/, call: (bb) => bb.certificates.delete('cert-1') },
  'secrets.create': { gap: /Secrets/, call: (bb) => bb.secrets.create({ keypairId: 'k' } as never) },
  'secrets.retrieve': { gap: /Secrets/, call: (bb) => bb.secrets.retrieve('secret-1') },
  'secrets.update': { gap: /Secrets/, call: (bb) => bb.secrets.update('secret-1', {} as never) },
  'secrets.list': { gap: /Secrets/, call: (bb) => bb.secrets.list() },
  'secrets.delete': { gap: /Secrets/, call: (bb) => bb.secrets.delete('secret-1') },
  'secrets.getPublicKey': { gap: /Secrets/, call: (bb) => bb.secrets.getPublicKey() },
  'agents.create': { gap: /Agents/, call: (bb) => bb.agents.create({ name: 'a' } as never) },
  'agents.retrieve': { gap: /Agents/, call: (bb) => bb.agents.retrieve('agent-1') },
  'agents.update': { gap: /Agents/, call: (bb) => bb.agents.update('agent-1', {}) },
  'agents.list': { gap: /Agents/, call: (bb) => bb.agents.list() },
  'agents.delete': { gap: /Agents/, call: (bb) => bb.agents.delete('agent-1') },
  'agents.runs.create': { gap: /Agents/, call: (bb) => bb.agents.runs.create({ task: 'do it' } as never) },
  'agents.runs.retrieve': { gap: /Agents/, call: (bb) => bb.agents.runs.retrieve('run-1') },
  'agents.runs.list': { gap: /Agents/, call: (bb) => bb.agents.runs.list() },
  'agents.runs.listMessages': { gap: /Agents/, call: (bb) => bb.agents.runs.listMessages('run-1') },
  'functions.secrets.list': { gap: /Functions/, call: (bb) => bb.functions.secrets.list('fn-1') },
  'functions.secrets.attach': {
    gap: /Functions/,
    call: (bb) => bb.functions.secrets.attach('fn-1', { secretId: 's' }),
  },
  'functions.secrets.detach': { gap: /Functions/, call: (bb) => bb.functions.secrets.detach('fn-1', 'secret-1') },
};
