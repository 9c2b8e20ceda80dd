import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away self-signed certificate for localhost and 127.0.0.1, in its own temp directory. */
export interface ThrowAwayCertificate {
  /** PEM certificate file; it is its own CA, so clients trust it with `--ca-file` / `ca`. */
  readonly certFile: string;
  /** PEM private key file. */
  readonly keyFile: string;
  /** The certificate's PEM bytes. */
  readonly cert: Buffer;
  /** The key's PEM bytes. */
  readonly key: Buffer;
  /** Removes the directory. */
  remove(): void;
}

/**
 * Makes a throw-away certificate with openssl. An EC P-256 key: RSA key generation can take
 * seconds on a loaded host, and ate into start deadlines.
 */
export function throwAwayCertificate(prefix = 'tunnel-tls-'): ThrowAwayCertificate {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-keyout', keyFile, '-out', certFile, ...subject], {
    stdio: 'ignore',
    timeout: 30_000,
  });
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
