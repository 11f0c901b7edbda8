/**
 * doctor inside the k3s nodes: per node one `docker container inspect` (running? started when?) and
 * one `docker exec NODE sh -c SCRIPT` that prints what containerd pulls with (doctor/node-read.ts;
 * the script holds no secret and its output, config.toml's credentials included, stays in memory),
 * the state folder's files, and a TLS handshake from this machine trusting the node's CA. The
 * findings themselves are pure (doctor/node-findings.ts).
 */
import { stat } from 'node:fs/promises';
import type { Finding } from '../doctor/finding.js';
import { caPathsOf, ourHosts } from '../doctor/node-files.js';
import { nodeFindings, type NodeFacts } from '../doctor/node-findings.js';
import { nodePullErrors } from '../doctor/node-trust.js';
import { nodeReadScript, parseNodeRead } from '../doctor/node-read.js';
import { NODE_CA_FILE } from '../spec.js';
import { readCredentials } from '../state/credentials.js';
import { statePath } from '../state/layout.js';
import { readIfExists } from '../state/write-files.js';
import { inspectContainer } from '../tools/docker.js';
import { readWithScript } from '../tools/docker-exec.js';
import type { Runner } from '../tools/run.js';
import { askAboutImages, type TagAsker } from './doctor-registry-tag.js';
import { checkRegistryTls } from './doctor-tls.js';
import { hostsAddressOf } from './readiness.js';

export interface NodeDiagnosisRequest {
  run: Runner;
  node: string;
  /** The registry Service's ClusterIP, when known: the hosts line must name it. */
  serviceIp?: string;
  /** The registry's port on this machine (published by the loadbalancer), when known. */
  port?: number;
  now: Date;
  /** Asks the registry about the images of the node's failed pulls; without it they are only classified. */
  askTag?: TagAsker;
}

type StateFacts = NodeFacts['state'];

/** The state folder's files a node's findings compare with; a broken credentials.json counts as none (reported by the credentials check). */
export async function readStateFacts(stateDir: string): Promise<StateFacts> {
  const registriesPath = statePath(stateDir, 'registriesYaml');
  const [registriesYaml, registriesMtime, caCert, tlsCert, credentials] = await Promise.all([
    readIfExists(registriesPath),
    stat(registriesPath).then((s) => s.mtime, () => undefined),
    readIfExists(statePath(stateDir, 'caCert')),
    readIfExists(statePath(stateDir, 'tlsCert')),
    readCredentials(stateDir).catch(() => undefined),
  ]);
  return {
    dir: stateDir,
    ...(registriesYaml !== undefined ? { registriesYaml } : {}),
    ...(registriesMtime ? { registriesMtime } : {}),
    ...(caCert !== undefined ? { caCert } : {}),
    ...(tlsCert !== undefined ? { tlsCert } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

/** One node's findings, compared with the state folder read once (readStateFacts); a node that is not running gives one 'skip' finding. */
export async function diagnoseNode(request: NodeDiagnosisRequest, state: StateFacts): Promise<Finding[]> {
  const { run, node, port } = request;
  const info = await inspectContainer(run, node);
  if (!info?.running) {
    return [{ check: 'node', where: node, status: 'skip', summary: info ? `the node container is ${info.status}: nothing inside it was checked` : `there is no container ${node}` }];
  }
  const read = parseNodeRead(await readWithScript(run, node, nodeReadScript(ourHosts(port)), "the node's registry files"));
  const caPem = read.files[caPathsOf(read)[0] ?? NODE_CA_FILE];
  const images = nodePullErrors(read, ourHosts(port), info.startedAt).map((e) => e.image);
  const [tls, registryAnswers] = await Promise.all([
    port !== undefined && caPem ? checkRegistryTls({ port, caPem }) : undefined,
    request.askTag ? askAboutImages(request.askTag, images, port) : undefined,
  ]);
  const hostsAddress = read.hosts === undefined ? undefined : hostsAddressOf(read.hosts);
  return nodeFindings({
    node, read, state, now: request.now,
    ...(hostsAddress ? { hostsAddress } : {}),
    ...(request.serviceIp ? { serviceIp: request.serviceIp } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(info.startedAt ? { startedAt: info.startedAt } : {}),
    ...(tls ? { tls } : {}),
    ...(registryAnswers ? { registryAnswers } : {}),
  });
}
