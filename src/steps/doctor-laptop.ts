/**
 * doctor's checks on this machine: docker holds a login for localhost:PORT with the saved
 * credentials (its config.json, or the credential helper it names), and the port answers as our
 * registry does (status's probe: 401 without, 200 with the credentials, TLS through the saved CA).
 */
import { join } from 'node:path';
import { isKnownError } from '../errors.js';
import type { Finding } from '../doctor/finding.js';
import { compareLogin, fileLogin, helperFor, isHelperName, listedServer, parseDockerConfig, type LoginVerdict } from '../doctor/docker-login.js';
import { readCredentials } from '../state/credentials.js';
import { statePath } from '../state/layout.js';
import { readIfExists } from '../state/write-files.js';
import { credentialHelperLogins, credentialHelperProgram, credentialHelperSecret } from '../tools/docker-credentials.js';
import type { Runner } from '../tools/run.js';
import { dockerConfigDir } from './docker-local.js';
import type { probeRegistry } from './registry-probe.js';
import { registryPortOutcome } from './status.js';

export interface LaptopRequest {
  run: Runner;
  name: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  /** The host port the cluster publishes; undefined when it publishes none (or the cluster is not running). */
  port?: number;
  probe?: typeof probeRegistry;
}

const WHERE = 'laptop';

export async function dockerLoginFinding(request: LaptopRequest & { port: number }): Promise<Finding> {
  const server = `localhost:${request.port}`;
  const check = 'docker login';
  const saved = await readCredentials(request.stateDir);
  if (!saved) return { check, where: WHERE, status: 'fail', summary: `no credentials in ${request.stateDir} to compare docker's login with`, fix: `run k3s-devreg up --name ${request.name}` };
  const login = `run k3s-devreg verify --name ${request.name} (it logs docker in to ${server}), or \`docker login ${server} --username ${saved.username} --password-stdin\` with the password from ${statePath(request.stateDir, 'credentials')}`;
  const file = join(dockerConfigDir(request.env), 'config.json');
  const text = await readIfExists(file);
  const config = text === undefined ? undefined : parseDockerConfig(text);
  if (!config) {
    const summary = text === undefined ? `docker holds no login for ${server}: there is no ${file}` : `${file} is not a JSON object, so docker reads no login from it`;
    return { check, where: WHERE, status: 'fail', summary, fix: text === undefined ? login : `repair ${file}, then ${login}` };
  }
  const helper = helperFor(config, server);
  let verdict: LoginVerdict;
  let source: string;
  if (helper) {
    const program = credentialHelperProgram(helper);
    source = `docker's credential helper ${program}`;
    if (!isHelperName(helper)) return { check, where: WHERE, status: 'fail', summary: `${file} names a credential helper that is not a plain name`, evidence: `"${helper}"`, fix: `repair "credsStore"/"credHelpers" in ${file}` };
    let listed: Record<string, string>;
    try {
      listed = await credentialHelperLogins(request.run, helper);
    } catch (error) {
      if (!isKnownError(error)) throw error;
      return { check, where: WHERE, status: 'fail', summary: `docker cannot read its logins: ${error.problem}`, evidence: `${file} names the helper ${helper}`, fix: error.fix };
    }
    const key = listedServer(listed, server);
    const username = key === undefined ? undefined : listed[key]!;
    if (key === undefined || username !== saved.username) verdict = username === undefined ? { state: 'missing' } : { state: 'other-user', username };
    else {
      // `list` names only the user: the password (Docker Desktop keeps every login in a helper) is compared through `get`.
      try {
        const held = await credentialHelperSecret(request.run, helper, key);
        verdict = compareLogin(held.username, held.secret, saved);
      } catch (error) {
        if (!isKnownError(error)) throw error;
        return { check, where: WHERE, status: 'warn', summary: `docker is logged in to ${server} as ${username}, but its password was not compared: ${error.problem}`, evidence: `read from ${source}`, fix: `${error.fix}; or log in again: ${login}` };
      }
    }
  } else {
    source = file;
    verdict = fileLogin(config, server, saved);
  }
  const evidence = `read from ${source}`;
  switch (verdict.state) {
    case 'ok':
      return { check, where: WHERE, status: 'ok', summary: `docker is logged in to ${server} as ${verdict.username}`, evidence };
    case 'token':
      return { check, where: WHERE, status: 'warn', summary: `docker holds an identity token for ${server}, which our registry (htpasswd) does not issue`, evidence, fix: login };
    case 'missing':
      return { check, where: WHERE, status: 'fail', summary: `docker is not logged in to ${server}: docker push to it is refused`, evidence, fix: login };
    case 'unreadable':
      return { check, where: WHERE, status: 'fail', summary: `docker's saved login for ${server} is not a user:password pair`, evidence, fix: login };
    case 'other-user':
      return { check, where: WHERE, status: 'fail', summary: `docker is logged in to ${server} as ${verdict.username}, but the registry's user is ${saved.username}`, evidence, fix: login };
    case 'stale-password':
      return { check, where: WHERE, status: 'fail', summary: `docker's saved password for ${server} is not the one in credentials.json (a reset or a new password since the last login)`, evidence, fix: login };
  }
}

/** The port answering as our registry: only while the cluster runs (a stopped one is the cluster finding's to report). */
export async function registryPortFinding(request: Pick<LaptopRequest, 'stateDir' | 'port' | 'probe'> & { running: boolean; why: string }): Promise<Finding> {
  if (!request.running) return { check: 'registry port', where: WHERE, status: 'skip', summary: request.why };
  const port = await registryPortOutcome(request.stateDir, request.port, request.probe);
  return { check: 'registry port', where: WHERE, status: port.status, summary: port.detail, ...(port.fix ? { fix: port.fix } : {}) };
}
