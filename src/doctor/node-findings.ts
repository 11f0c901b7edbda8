/**
 * Every finding about one k3s node from what was read in it (one `docker exec`, node-read.ts), in the
 * state folder, and by the TLS handshake on this machine: one per check, in the order a pull meets
 * them (name, registry settings, generated files, credentials, trust, certificate, clock, then what
 * containerd logged). Pure.
 */
import type { RegistryCredentials } from '../render/registries-yaml.js';
import type { Finding } from './finding.js';
import { caPathsOf, credentialsFinding, hostsEntryFinding, hostsTomlFinding, ourHosts, registriesYamlFinding } from './node-files.js';
import type { NodeRead } from './node-read.js';
import type { TagAnswer } from './registry-tag.js';
import { caFinding, certificateFinding, clockFinding, pullErrorsFinding, type TlsCheck } from './node-trust.js';

export interface NodeFacts {
  node: string;
  read: NodeRead;
  /** The address the node's /etc/hosts gives container-registry.local (hostsAddressOf). */
  hostsAddress?: string;
  /** The registry Service's ClusterIP, when known. */
  serviceIp?: string;
  /** The registry's port on this machine, when known. */
  port?: number;
  /** State.StartedAt of the node container. */
  startedAt?: string;
  state: {
    dir: string;
    registriesYaml?: string;
    registriesMtime?: Date;
    caCert?: string;
    tlsCert?: string;
    credentials?: RegistryCredentials;
  };
  /** The handshake with the registry trusting the node's CA file, when the port is known and the file exists. */
  tls?: TlsCheck;
  /** What the registry said about the images of the node's failed pulls (nodePullErrors), by image. */
  registryAnswers?: ReadonlyMap<string, TagAnswer | undefined>;
  now: Date;
}

export function nodeFindings(facts: NodeFacts): Finding[] {
  const { node, read, state, port } = facts;
  return [
    hostsEntryFinding(node, read, facts.hostsAddress, facts.serviceIp),
    registriesYamlFinding(node, read, {
      stateDir: state.dir,
      ...(state.registriesYaml !== undefined ? { stateText: state.registriesYaml } : {}),
      ...(state.registriesMtime ? { stateMtime: state.registriesMtime } : {}),
      ...(facts.startedAt ? { startedAt: facts.startedAt } : {}),
      ...(port !== undefined ? { port } : {}),
    }),
    hostsTomlFinding(node, read, port),
    credentialsFinding(node, read, state.credentials, state.dir),
    caFinding(node, read, caPathsOf(read), state.caCert, facts.tls),
    certificateFinding(node, read, facts.tls, state.tlsCert, facts.now),
    clockFinding(node, read, facts.now),
    pullErrorsFinding(node, read, ourHosts(port), facts.startedAt, facts.now, facts.registryAnswers),
  ];
}
