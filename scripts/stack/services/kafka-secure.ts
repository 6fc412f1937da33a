import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { StackError } from '../stack-error.ts';

/**
 * The SCRAM user of the secure listener; its password is made once per broker directory. Not `cdc`: that
 * is the stack MariaDB's password, which the CLI scrubs from every output.
 */
export const SASL_USERNAME = 'pipeline';

/**
 * What the broker's SASL_SSL listener needs and what its clients need, made once with the JDK's keytool
 * in `<broker dir>/secure/`: a CA, the broker's PKCS12 keystore signed by it (for 127.0.0.1 and
 * localhost), the CA as PEM for Node clients, and random passwords for the keystore and the SCRAM user.
 */
export interface SecureMaterial {
  dir: string;
  caPem: string;
  keystore: string;
  keystorePassword: string;
  saslPassword: string;
}

export function secureMaterialIn(brokerDir: string): SecureMaterial {
  const dir = join(brokerDir, 'secure');
  return {
    dir,
    caPem: join(dir, 'ca.pem'),
    keystore: join(dir, 'broker.p12'),
    get keystorePassword() {
      return readFileSync(join(dir, 'keystore-password'), 'utf8').trim();
    },
    get saslPassword() {
      return readFileSync(join(dir, 'sasl-password'), 'utf8').trim();
    },
  };
}

/** Makes the material unless a complete set exists; built in a scratch directory and renamed, so a crash leaves none. */
export function ensureSecureMaterial(brokerDir: string): SecureMaterial {
  const material = secureMaterialIn(brokerDir);
  if (existsSync(join(material.dir, 'sasl-password'))) return material;
  const scratch = `${material.dir}.${process.pid}.tmp`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  try {
    const storePassword = randomBytes(18).toString('base64url');
    const store = (name: string) => ['-keystore', join(scratch, name), '-storetype', 'PKCS12', '-storepass', storePassword];
    const keypair = ['-genkeypair', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-keypass', storePassword];
    keytool([...keypair, '-alias', 'ca', '-dname', 'CN=rxcdc local stack CA', '-ext', 'bc:c', ...store('ca.p12')]);
    keytool(['-exportcert', '-rfc', '-alias', 'ca', '-file', join(scratch, 'ca.pem'), ...store('ca.p12')]);
    keytool([...keypair, '-alias', 'broker', '-dname', 'CN=localhost', ...store('broker.p12')]);
    keytool(['-certreq', '-alias', 'broker', '-file', join(scratch, 'broker.csr'), ...store('broker.p12')]);
    // Node checks the name it dialled against the certificate: the stack's clients dial 127.0.0.1.
    keytool([
      '-gencert', '-rfc', '-alias', 'ca', '-validity', '3650', '-infile', join(scratch, 'broker.csr'), '-outfile', join(scratch, 'broker.pem'),
      '-ext', 'san=ip:127.0.0.1,dns:localhost', '-ext', 'eku=serverAuth', ...store('ca.p12'),
    ]);
    keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', join(scratch, 'ca.pem'), ...store('broker.p12')]);
    keytool(['-importcert', '-noprompt', '-alias', 'broker', '-file', join(scratch, 'broker.pem'), ...store('broker.p12')]);
    writeFileSync(join(scratch, 'keystore-password'), `${storePassword}\n`, { mode: 0o600 });
    writeFileSync(join(scratch, 'sasl-password'), `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
    rmSync(material.dir, { recursive: true, force: true });
    renameSync(scratch, material.dir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return material;
}

function keytool(args: string[]): void {
  const result = spawnSync('keytool', args, { encoding: 'utf8' });
  if (result.error) throw new StackError("kafka: keytool was not found: it comes with Java (openjdk-17-jre-headless); put Java's bin directory on PATH");
  if (result.status !== 0) {
    // keytool's messages name files and aliases, never the store password (it is an argument, not echoed).
    throw new StackError(`kafka: keytool ${args[0]} failed making the secure listener's certificates: ${(result.stderr || result.stdout).trim().split('\n')[0]}`);
  }
}
