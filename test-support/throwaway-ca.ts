/**
 * A certificate authority made for one run and thrown away with its directory, and the server certificate of the
 * local TLS front signed by it: what CloudFront's certificate is to the stack, on this machine. Clients trust it
 * with `NODE_EXTRA_CA_CERTS=<ca.pem>` (Node reads it at start) or a client's `ca` option.
 *
 * Made with the `openssl` command (Debian's `openssl` package, present wherever Node's is): P-256 keys, a day's
 * validity, the server certificate for 127.0.0.1 and localhost only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ThrowawayCa {
  /** The CA's certificate (PEM): what clients are told to trust. */
  certPath: string;
  keyPath: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (failure.code === 'ENOENT')
      throw new Error('The local TLS front needs the openssl command (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${failure.stderr?.toString().trim() ?? failure.message}`);
  }
}

/** Where `makeThrowawayCa(dir)` put its CA: for a process started afterwards that trusts it. */
export function throwawayCaIn(dir: string): ThrowawayCa {
  return { certPath: join(dir, 'ca.pem'), keyPath: join(dir, 'ca.key') };
}

/** Makes a CA in `dir` (created if missing). */
export function makeThrowawayCa(dir: string): ThrowawayCa {
  mkdirSync(dir, { recursive: true });
  const ca = throwawayCaIn(dir);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      ca.keyPath,
      '-out',
      ca.certPath,
      '-days',
      '1',
      '-subj',
      '/CN=Wallcrawler throwaway local CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return ca;
}

/** The TLS front's key and certificate (for 127.0.0.1 and localhost), signed by `ca`, in `dir`. */
export function issueServerCertificate(ca: ThrowawayCa, dir: string): { cert: Buffer; key: Buffer } {
  mkdirSync(dir, { recursive: true });
  const [key, csr, cert, ext] = ['front.key', 'front.csr', 'front.pem', 'front.ext'].map((n) => join(dir, n)) as [
    string,
    string,
    string,
    string,
  ];
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      '/CN=127.0.0.1',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certPath,
      '-CAkey',
      ca.keyPath,
      '-set_serial',
      `0x${Date.now().toString(16)}`,
      '-out',
      cert,
      '-days',
      '1',
      '-extfile',
      ext,
    ],
    dir,
  );
  if (!existsSync(cert)) throw new Error('openssl made no certificate');
  return { cert: readFileSync(cert), key: readFileSync(key) };
}
