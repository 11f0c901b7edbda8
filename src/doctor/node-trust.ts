/**
 * doctor's checks of what one k3s node trusts and sees: the CA file its hosts.toml names (there,
 * the state folder's, and verifying the certificate the registry serves), that certificate's names
 * and dates on the node's clock, the clock itself, and the last failed pulls of our registry in
 * containerd's log. Pure: the TLS handshake is made by the caller (steps/doctor-tls.ts).
 */
import { X509Certificate } from 'node:crypto';
import { certificateSummary } from '../render/pki.js';
import { NODE_CA_FILE, REGISTRY_HOST } from '../spec.js';
import { finding, UP, type Finding } from './finding.js';
import { LOG_LINES, NODE_PATHS, type NodeRead } from './node-read.js';
import { localhostPortOf, pullErrorsFor, type PullErrorLine } from './containerd-log.js';
import { onOurRegistry, registryVerdict, type TagAnswer } from './registry-tag.js';

/** A TLS handshake with the registry on this machine's port, trusting only one CA, for REGISTRY_HOST. */
export interface TlsCheck {
  port: number;
  /** The chain verified to that CA and the certificate names REGISTRY_HOST. */
  authorized: boolean;
  /** Node's verification error code when not authorized (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID). */
  error?: string;
  /** The certificate the registry presented, PEM. */
  servedPem?: string;
  /** Set when no handshake happened (nothing answers on the port): why. */
  unreachable?: string;
}

const WARN_DAYS = 30;
const DAY_MS = 86_400_000;

const certificateOf = (pem: string | undefined): X509Certificate | undefined => {
  try {
    return pem ? new X509Certificate(pem) : undefined;
  } catch {
    return undefined;
  }
};
const short = (fingerprint: string) => `sha256 ${fingerprint.slice(0, 23)}…`;

export function caFinding(node: string, read: NodeRead, caPaths: readonly string[], stateCa: string | undefined, tls: TlsCheck | undefined): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('CA', node, rest);
  const path = caPaths[0] ?? NODE_CA_FILE;
  const named = caPaths.length > 0 ? 'named in hosts.toml' : 'ours (hosts.toml names none)';
  const text = read.files[path];
  if (text === undefined) {
    return check({ status: 'fail', summary: `${path} (${named}) does not exist in the node: containerd cannot verify the registry (x509: certificate signed by unknown authority)`, fix: `${UP}, which writes node/ca.crt in the state folder the node mounts; if it stays missing, run k3s-devreg down, then up` });
  }
  const ca = certificateOf(text);
  if (!ca) return check({ status: 'fail', summary: `${path} in the node holds no certificate`, fix: UP });
  const ours = certificateOf(stateCa);
  if (!ours) return check({ status: 'fail', summary: 'the state folder has no CA (pki/ca.crt)', fix: UP });
  if (!ca.raw.equals(ours.raw)) {
    return check({
      status: 'fail',
      summary: `${path} in the node is not the state folder's CA: containerd does not trust the registry's certificate (x509: certificate signed by unknown authority)`,
      evidence: `node: ${short(ca.fingerprint256)}; state folder pki/ca.crt: ${short(ours.fingerprint256)}`,
      fix: `${UP}, which writes the state folder's CA for the nodes`,
    });
  }
  const same = `${path} is the state folder's CA (${short(ca.fingerprint256)})`;
  if (!tls) return check({ status: 'ok', summary: `${same}; not tried against the registry (its port is unknown)` });
  if (tls.unreachable) return check({ status: 'warn', summary: `${same}, but the registry on 127.0.0.1:${tls.port} could not be asked: ${tls.unreachable}`, fix: 'run k3s-devreg status to see whether the registry runs' });
  if (!tls.authorized) {
    return check({
      status: 'fail',
      summary: `${same}, but it does not verify the certificate the registry serves for ${REGISTRY_HOST} (${tls.error ?? 'not authorized'})`,
      evidence: `TLS to 127.0.0.1:${tls.port}, servername ${REGISTRY_HOST}, trusting only ${path}`,
      fix: `${UP}, which issues the registry's certificate from this CA again and restarts the registry`,
    });
  }
  return check({ status: 'ok', summary: `${same} and verifies the certificate the registry serves for ${REGISTRY_HOST}` });
}

export function certificateFinding(node: string, read: NodeRead, tls: TlsCheck | undefined, stateTlsCert: string | undefined, now: Date): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('certificate', node, rest);
  const pem = tls?.servedPem ?? stateTlsCert;
  const source = tls?.servedPem ? `served on 127.0.0.1:${tls.port}` : "the state folder's pki/tls.crt";
  if (!pem || !certificateOf(pem)) return check({ status: 'fail', summary: `no registry certificate to check (${source})`, fix: UP });
  const cert = certificateSummary(pem);
  const missing = [REGISTRY_HOST, 'localhost'].filter((n) => !cert.dnsNames.includes(n));
  const names = cert.dnsNames.join(', ');
  if (missing.length > 0) return check({ status: 'fail', summary: `the registry certificate (${source}) does not name ${missing.join(' or ')}`, evidence: `names: ${names}`, fix: `${UP}, which issues it again with every name` });
  const clock = read.clock !== undefined ? new Date(read.clock * 1000) : now;
  const onClock = read.clock !== undefined ? "on the node's clock" : "on this machine's clock (the node's could not be read)";
  const dates = `valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}; ${onClock} it is ${clock.toISOString()}`;
  if (clock < cert.notBefore) return check({ status: 'fail', summary: `the registry certificate is not valid yet ${onClock}`, evidence: dates, fix: "the node's clock is behind: restart Docker Desktop (its VM's clock drifts after sleep) or fix this machine's time sync" });
  if (clock > cert.notAfter) return check({ status: 'fail', summary: `the registry certificate has expired ${onClock}`, evidence: dates, fix: `${UP} to renew it` });
  const days = Math.floor((cert.notAfter.getTime() - clock.getTime()) / DAY_MS);
  if (days < WARN_DAYS) return check({ status: 'warn', summary: `the registry certificate expires in ${days} day(s) ${onClock}`, evidence: dates, fix: `${UP} to renew it` });
  return check({ status: 'ok', summary: `the registry certificate (${source}) names ${names} and has ${days} day(s) left ${onClock}` });
}

/** How far a node's clock may be from this machine's before it is worth a word. */
const SKEW_SECONDS = 60;

export function clockFinding(node: string, read: NodeRead, now: Date): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('clock', node, rest);
  if (read.clock === undefined) return check({ status: 'warn', summary: "the node's clock could not be read (date +%s)", fix: `check the node: docker exec ${node} date` });
  const skew = Math.round(read.clock - now.getTime() / 1000);
  const evidence = `node ${new Date(read.clock * 1000).toISOString()}, this machine ${now.toISOString()}`;
  if (Math.abs(skew) > SKEW_SECONDS) {
    return check({ status: 'warn', summary: `the node's clock is ${Math.abs(skew)}s ${skew > 0 ? 'ahead of' : 'behind'} this machine's: certificates are checked on the node's clock`, evidence, fix: 'restart Docker Desktop (its VM\'s clock drifts after sleep), or fix the time sync of this machine' });
  }
  return check({ status: 'ok', summary: `the node's clock is within ${SKEW_SECONDS}s of this machine's`, evidence });
}

/**
 * How long a pull error counts as current. The kubelet retries a failing pull with a back-off capped
 * at 5 minutes, and a repeated error counts at its last time, so a pod that still fails keeps its
 * error minutes old; one not repeated for an hour is a pull nobody retries (a deleted pod's typo'd
 * tag): worth a word, not a failure.
 */
export const PULL_ERROR_WINDOW_MS = 3_600_000;

type Status = Finding['status'];
const RANK: Record<Status, number> = { skip: 0, ok: 1, warn: 2, fail: 3 };

/** The failed pulls pullErrorsFinding speaks of: the caller asks the registry about their images. */
export function nodePullErrors(read: NodeRead, hosts: readonly string[], startedAt: string | undefined): PullErrorLine[] {
  if (read.containerdLog === undefined) return [];
  const since = startedAt ? Date.parse(startedAt) : NaN;
  return pullErrorsFor(read.containerdLog, hosts, 3, Number.isNaN(since) ? undefined : since);
}

/** Each error whose image the registry was asked about and lacks: manifest-unknown, with what the registry said. */
function toldByRegistry(errors: PullErrorLine[], hosts: readonly string[], answers: ReadonlyMap<string, TagAnswer | undefined> | undefined): (PullErrorLine & { said?: string })[] {
  const port = localhostPortOf(hosts);
  return errors.map((error) => {
    const target = error.image && answers?.has(error.image) ? onOurRegistry(error.image, port) : undefined;
    const told = target && registryVerdict(target, answers!.get(error.image!), port);
    return told ? { ...error, explanation: told.explanation, said: told.evidence } : error;
  });
}

/**
 * containerd's failed pulls of our hosts since the node container last started (`startedAt`; earlier
 * ones are from before a restart that rewrote its files). An explained error within the window fails;
 * an older or unexplained one warns. The finding speaks of the worst error (the latest of equals).
 * `answers`: what the registry said about the images of nodePullErrors, by image, where it was asked;
 * a missing tag or repository there outranks the words of the endpoint containerd tried last.
 */
export function pullErrorsFinding(node: string, read: NodeRead, hosts: readonly string[], startedAt: string | undefined, now: Date, answers?: ReadonlyMap<string, TagAnswer | undefined>): Finding {
  const check = (rest: Omit<Finding, 'check' | 'where'>) => finding('pull errors', node, rest);
  if (read.containerdLog === undefined) return check({ status: 'skip', summary: `no ${NODE_PATHS.containerdLog} in the node to read` });
  const since = startedAt ? Date.parse(startedAt) : NaN;
  const errors = toldByRegistry(nodePullErrors(read, hosts, startedAt), hosts, answers);
  const sinceWords = Number.isNaN(since) ? '' : ' since the node started';
  if (errors.length === 0) return check({ status: 'ok', summary: `no failed pull from ${hosts.join(' or ')}${sinceWords} in the last ${LOG_LINES} lines of containerd.log` });
  // Log times are the node's clock: compare them with the node's clock too.
  const clock = read.clock !== undefined ? read.clock * 1000 : now.getTime();
  const rated = errors.map((error) => {
    const at = error.time === undefined ? NaN : Date.parse(error.time);
    const minutes = Number.isNaN(at) ? undefined : Math.max(0, Math.round((clock - at) / 60_000));
    const old = minutes !== undefined && clock - at > PULL_ERROR_WINDOW_MS;
    const status: Status = error.explanation && !old ? 'fail' : 'warn';
    return { error, minutes, old, status };
  });
  const worst = rated.reduce((a, b) => (RANK[b.status] >= RANK[a.status] ? b : a));
  const others = rated.filter((r) => r !== worst).map((r) => r.error.explanation?.kind ?? 'unexplained');
  const more = others.length > 0 ? ` (${worst === rated.at(-1) ? 'earlier' : 'other'} failed pulls: ${others.join(', ')})` : '';
  const { error: last, minutes, old } = worst;
  const ago = minutes !== undefined ? `, ${minutes} min ago` : '';
  const what = `${last.image ? `the pull of ${last.image}` : 'a pull'} failed${last.time ? ` at ${last.time}${ago}` : ''}`;
  if (!last.explanation) {
    return check({ status: 'warn', summary: `${what}, for a reason doctor does not know${more}`, evidence: last.quote, fix: `read the lines around it: docker exec ${node} tail -n 50 ${NODE_PATHS.containerdLog}` });
  }
  const summary = `${what} (${last.explanation.kind}): ${last.explanation.cause}${more}`;
  if (old) {
    const hours = PULL_ERROR_WINDOW_MS / 3_600_000;
    return check({ status: 'warn', summary: `${summary}; not repeated for over ${hours} h, so likely a pull no pod retries`, evidence: last.quote, fix: `if a pod still waits for that image: ${last.explanation.fix}; errors from before the node last started are not counted (docker restart ${node} drops this one)` });
  }
  return check({ status: 'fail', summary, evidence: last.said ? `${last.said}; the log line: ${last.quote}` : last.quote, fix: last.explanation.fix });
}
