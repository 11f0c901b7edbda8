/**
 * Renders everything `up` uses into the state folder. Everything is computed in memory first and
 * only then written, so bad input leaves nothing half-written; unchanged files are not rewritten.
 * Kept across runs: the CA (nodes trust it) and the credentials (unless a new password is given).
 */
import { join } from 'node:path';
import { toYaml } from '../render/yaml-stream.js';
import { readAsset } from '../assets.js';
import { registerSecret } from '../redact.js';
import { ensurePki, type Pki } from '../render/pki.js';
import { htpasswdEntry, htpasswdMatches } from '../render/htpasswd.js';
import { renderK3dConfig } from '../render/k3d-config.js';
import { renderManifests } from '../render/manifests.js';
import { ourRegistries, renderRegistriesYaml } from '../render/registries-yaml.js';
import { UserError } from '../errors.js';
import { REGISTRY_HOST, serviceDnsNames } from '../spec.js';
import { chooseCredentials, readCredentials, serializeCredentials } from '../state/credentials.js';
import { STATE_FILES, statePath } from '../state/layout.js';
import { serializeSettings } from '../state/settings.js';
import { ensureWritableDir, readIfExists, writeFiles, type RenderedFile } from '../state/write-files.js';
import { registriesForNodes } from './registries-for-nodes.js';
import type { RenderRequest, RenderResult } from './render-types.js';
import { filesOf, stampOf } from './render-stamp.js';

export type { RenderRequest, RenderResult } from './render-types.js';

const SECRET = 0o600;
const PUBLIC = 0o644;

/**
 * At the top of the state folder only (node/ is what k3d mounts into the nodes): '*' ignores every
 * file below, this one too, so `git status` of a work tree holding the folder shows nothing.
 */
export const STATE_GITIGNORE = '# k3s-devreg state: CA key, credentials, registry password. Never commit it.\n*\n';

/** A folder of someone else's (a --dir into a repository) keeps its own .gitignore: rendering there is refused. */
function refuseForeignGitignore(dir: string, existing: string | undefined): void {
  if (existing === undefined || existing === STATE_GITIGNORE) return;
  throw new UserError(
    `${join(dir, STATE_FILES.gitignore)} exists and is not ours: this folder would hold the CA key and the registry password where git could pick them up`,
    `render into a folder of its own, e.g. --dir ${join(dir, 'k3s-devreg-state')}`,
  );
}

async function loadExisting(dir: string) {
  const read = (key: keyof typeof STATE_FILES) => readIfExists(statePath(dir, key));
  const [credentials, caCert, caKey, tlsCert, tlsKey, htpasswd, registriesYaml, gitignore] = await Promise.all([
    readCredentials(dir), read('caCert'), read('caKey'), read('tlsCert'), read('tlsKey'), read('htpasswd'), read('registriesYaml'), read('gitignore'),
  ]);
  refuseForeignGitignore(dir, gitignore);
  const pki: Partial<Pki> = {};
  if (caCert) pki.caCert = caCert;
  if (caKey) pki.caKey = caKey;
  if (tlsCert) pki.tlsCert = tlsCert;
  if (tlsKey) pki.tlsKey = tlsKey;
  return {
    credentials,
    pki,
    htpasswd,
    registriesYaml,
  };
}

export async function renderState(request: RenderRequest): Promise<RenderResult> {
  const { spec } = request;
  const dir = spec.stateDir;
  const existing = await loadExisting(dir);
  if (existing.credentials) registerSecret(existing.credentials.password);

  const credentials = chooseCredentials(spec.username, request.password, existing.credentials);
  registerSecret(credentials.password);
  const { pki } = ensurePki(existing.pki, {
    dnsNames: [REGISTRY_HOST, 'localhost', ...serviceDnsNames()],
    ipAddresses: ['127.0.0.1'],
    now: request.now ?? new Date(),
  });
  registerSecret(pki.caKey);
  registerSecret(pki.tlsKey);
  const nodes = await registriesForNodes(ourRegistries(credentials, spec.hostPort), request);
  const registriesYaml = renderRegistriesYaml(nodes.document);
  const k3dConfig = toYaml(renderK3dConfig(spec, { nodeDir: join(dir, STATE_FILES.nodeDir), imagesDir: join(dir, STATE_FILES.imagesDir) }));
  const htpasswd =
    existing.htpasswd && htpasswdMatches(existing.htpasswd, credentials.username, credentials.password)
      ? existing.htpasswd
      : htpasswdEntry(credentials.username, credentials.password);
  const manifests = renderManifests(spec, { tlsCert: pki.tlsCert, tlsKey: pki.tlsKey, htpasswd, hostsScript: await readAsset('hosts-inject.sh') });

  const manifestFiles: RenderedFile[] = manifests.map((m) => ({
    path: join(STATE_FILES.manifestsDir, m.file),
    content: toYaml(m.object),
    mode: m.object.kind === 'Secret' ? SECRET : PUBLIC,
  }));
  const files: RenderedFile[] = [
    // First, so it is in place before any secret is.
    { path: STATE_FILES.gitignore, content: STATE_GITIGNORE, mode: PUBLIC },
    { path: STATE_FILES.settings, content: serializeSettings(spec), mode: PUBLIC },
    { path: STATE_FILES.credentials, content: serializeCredentials(credentials), mode: SECRET },
    { path: STATE_FILES.caKey, content: pki.caKey, mode: SECRET },
    { path: STATE_FILES.caCert, content: pki.caCert, mode: PUBLIC },
    { path: STATE_FILES.tlsKey, content: pki.tlsKey, mode: SECRET },
    { path: STATE_FILES.tlsCert, content: pki.tlsCert, mode: PUBLIC },
    { path: STATE_FILES.htpasswd, content: htpasswd, mode: SECRET },
    { path: STATE_FILES.nodeCaCert, content: pki.caCert, mode: PUBLIC },
    { path: STATE_FILES.registriesYaml, content: registriesYaml, mode: SECRET },
    { path: STATE_FILES.k3dConfig, content: k3dConfig, mode: PUBLIC },
    ...manifestFiles,
  ];
  // Only now, with everything rendered and checked, does the folder come into being (writeFiles
  // makes it, and takes it away again when a file cannot be written).
  const written = await writeFiles(dir, files);
  // Made here, not by docker: a bind-mount source docker creates is root's.
  await ensureWritableDir(join(dir, STATE_FILES.imagesDir));
  // Last: a stamp that is there promises the files above are complete and as written.
  await writeFiles(dir, [await stampOf(request, files)]);
  const changed = written.filter((w) => w.changed).map((w) => w.path);
  const result: RenderResult = {
    files: filesOf(dir, files.map((f) => f.path)),
    credentials,
    changed,
    warnings: nodes.warnings,
  };
  if (existing.registriesYaml !== registriesYaml) {
    result.registriesDiff = await nodes.diff(existing.registriesYaml, registriesYaml);
  }
  return result;
}
