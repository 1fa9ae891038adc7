// A throwaway PKI made with Debian's `openssl` at test time: a CA, a server certificate for
// localhost / 127.0.0.1, client certificates signed by that CA, and a second CA (with a client
// certificate of its own) that the broker does not trust. removeCerts() deletes the directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles { cert: string; key: string }

export interface TestPki {
  dir: string;
  ca: string;
  server: CertFiles;
  /** Client certificates by name, signed by `ca`. */
  clients: Record<string, CertFiles>;
  /** A CA the broker does not know, and a client certificate it signed. */
  otherCa: string;
  stranger: CertFiles;
  read(file: string): Buffer;
}

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function makeCa(dir: string, name: string): string {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`);
  return join(dir, `${name}.pem`);
}

function sign(dir: string, ca: string, name: string, subject: string, ext?: string): CertFiles {
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  const extArgs: string[] = [];
  if (ext) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    extArgs.push('-extfile', `${name}.ext`);
  }
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '2', '-out', `${name}.pem`, ...extArgs);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/** `clients` maps a name to the subject of its certificate (`/O=Acme/CN=alice`). */
export function makePki(clients: Record<string, string>): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'warren-pki-'));
  const ca = makeCa(dir, 'ca');
  const server = sign(dir, 'ca', 'server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const signed = Object.fromEntries(Object.entries(clients).map(([name, subject]) => [name, sign(dir, 'ca', `client-${name}`, subject)]));
  const otherCa = makeCa(dir, 'other-ca');
  const stranger = sign(dir, 'other-ca', 'stranger', '/CN=alice');
  return { dir, ca, server, clients: signed, otherCa, stranger, read: (f) => readFileSync(f) };
}

export function removeCerts(pki: TestPki | undefined): void {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
}
