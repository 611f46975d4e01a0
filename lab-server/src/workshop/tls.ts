// The workshop's certificate: the one the instructor gives, or a self-signed one made for
// this run alone. Students' browsers cannot know a self-signed certificate, so its SHA-256
// fingerprint is printed for the instructor to show: what a student compares before
// trusting the warning page, as with an SSH host key.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';

export interface Certificate {
  cert: string;
  key: string;
  /** "AB:CD:…", as browsers show it. */
  fingerprint: string;
  /** The names it is valid for, as the certificate itself says. */
  names: string;
  selfSigned: boolean;
}

function describe(cert: string, key: string, selfSigned: boolean): Certificate {
  const x = new X509Certificate(cert);
  return { cert, key, fingerprint: x.fingerprint256, names: x.subjectAltName ?? x.subject, selfSigned };
}

/** A certificate and key the instructor has (PEM files), checked to belong together. */
export function certificateFrom(certFile: string, keyFile: string): Certificate {
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error(`${keyFile} is not the key of ${certFile}`);
  return describe(cert, key, false);
}

/**
 * A self-signed certificate for these host names and addresses, valid for two days. The key
 * is made here; openssl(1) signs the certificate with it, reading it from a private file that
 * exists for that one call.
 */
export function selfSigned(names: string[]): Certificate {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const san = [...new Set(names)].map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const dir = mkdtempSync(join(tmpdir(), 'stepbox-tls-'));
  try {
    writeFileSync(join(dir, 'key.pem'), key, { mode: 0o600 });
    const r = spawnSync('openssl', ['req', '-x509', '-key', join(dir, 'key.pem'), '-days', '2', '-subj', '/CN=stepbox workshop', '-addext', `subjectAltName=${san}`], { encoding: 'utf8', timeout: 10_000 });
    if (r.error || r.status !== 0) throw new Error(`openssl could not make a certificate: ${(r.stderr || r.error?.message || '').trim()} (apt-get install openssl)`);
    return describe(r.stdout, key, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
