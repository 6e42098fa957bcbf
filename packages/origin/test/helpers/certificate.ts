// A self-signed certificate for 127.0.0.1 and localhost, made by Debian's openssl in `dir`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificate {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
}

/** Makes `<name>.pem` and `<name>-key.pem` in `dir` (an EC P-256 key, valid two days). */
export function makeCertificate(dir: string, name: string): TestCertificate {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=boxstream test ${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
}
