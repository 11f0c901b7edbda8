/**
 * Every command, its one-line summary and its options, as plain data: `--help` reads this without
 * loading any command module (start-up time is measured in `npm run bench`).
 */
import type { CommandSpec, OptionSpec } from './command-types.js';
// The defaults the help names come from where they are defined (spec.ts imports only errors.ts: --help stays fast).
import * as spec from './spec.js';

// help.ts and cli.ts read the table's entries by this type.
export type { CommandSpec, OptionSpec } from './command-types.js';

const name: OptionSpec = { type: 'string', short: 'n', value: 'NAME', help: `cluster name (default ${spec.DEFAULT_CLUSTER_NAME})` };
const yes: OptionSpec = { type: 'boolean', short: 'y', help: 'accept defaults, never prompt' };
const verbose: OptionSpec = { type: 'boolean', short: 'v', help: 'show every command run (secrets redacted)' };
const json: OptionSpec = { type: 'boolean', help: 'print one JSON object for scripts' };
const config: OptionSpec = { type: 'string', short: 'c', value: 'FILE', help: 'team config file (default: the nearest k3s-devreg.yaml, in this folder or above)' };

const specOptions: Record<string, OptionSpec> = {
  name,
  agents: { type: 'string', value: 'N', help: `number of agent nodes (default ${spec.DEFAULT_AGENTS})` },
  username: { type: 'string', short: 'u', value: 'USER', help: `registry username (default ${spec.DEFAULT_USERNAME})` },
  'password-stdin': { type: 'boolean', help: 'read the registry password from stdin (or env K3S_DEVREG_PASSWORD)' },
  port: { type: 'string', short: 'p', value: 'PORT', help: `host port for the registry (default ${spec.NODE_PORT})` },
  'registry-image': { type: 'string', value: 'IMAGE', help: `registry image (default ${spec.DEFAULT_REGISTRY_IMAGE})` },
  'hosts-image': { type: 'string', value: 'IMAGE', help: `image of the hosts-entry DaemonSet (default ${spec.DEFAULT_HOSTS_IMAGE})` },
  'k3s-image': { type: 'string', value: 'IMAGE', help: `k3s node image (default ${spec.DEFAULT_K3S_IMAGE}, the tested one)` },
  'registries-file': { type: 'string', value: 'FILE', help: 'your own k3s registries.yaml, merged with ours' },
  'no-strict': { type: 'boolean', help: 'report unknown keys in --registries-file as warnings, not errors' },
  'no-cache': { type: 'boolean', help: 'no pull-through cache for this cluster: nodes pull from docker.io themselves (kept for later runs)' },
  cache: { type: 'boolean', help: 'use the pull-through cache again after --no-cache (on by default)' },
  offline: { type: 'boolean', help: 'start from the images of k3s-devreg images load only: checks they are all there first, nodes never pull from the internet (no cache)' },
  config,
  yes,
};

/** up's options; reset takes the same ones, since it runs up again with them. */
const upOptions: Record<string, OptionSpec> = { ...specOptions, verbose };

export const COMMANDS: CommandSpec[] = [
  {
    name: 'up',
    summary: 'create (or resume) the cluster with its trusted private registry, and prove it works',
    usage: 'up [--name NAME] [--agents N] [--username USER] [--password-stdin] [--port PORT] [--yes]',
    options: upOptions,
    resumeHint: 'run k3s-devreg up again to resume where it stopped',
    load: () => import('./commands/up.js'),
  },
  {
    name: 'down',
    summary: 'delete the cluster; keep credentials, CA and pushed images for the next up',
    usage: 'down [--name NAME]',
    // down never asks (it keeps everything but the cluster); --yes is accepted so scripts can pass it to every command.
    options: { name, config, verbose, yes: { ...yes, help: 'accepted for scripts; down never asks' } },
    resumeHint: 'run k3s-devreg down again',
    load: () => import('./commands/down.js'),
  },
  {
    name: 'reset',
    summary: 'delete cluster, credentials, CA and images, then run up again',
    usage: 'reset [--name NAME] [--yes]',
    options: upOptions,
    resumeHint: 'run k3s-devreg up to finish setting up',
    load: () => import('./commands/reset.js'),
  },
  {
    name: 'status',
    summary: 'check cluster, nodes, registry, NodePort, hosts entries and certificate',
    usage: 'status [--name NAME] [--json]',
    options: { name, config, json, verbose },
    load: () => import('./commands/status.js'),
  },
  {
    name: 'verify',
    summary: 'push an image from this machine and run it in the cluster',
    usage: 'verify [--name NAME]',
    options: { name, config, verbose },
    resumeHint: 'run k3s-devreg verify again',
    load: () => import('./commands/verify.js'),
  },
  {
    name: 'render',
    summary: 'write every file up uses (certificates, htpasswd, registries.yaml, k3d config, manifests)',
    usage: 'render [--dir DIR] [--name NAME] [--username USER] [--password-stdin] [--json] [--yes]',
    options: {
      ...specOptions,
      dir: { type: 'string', short: 'd', value: 'DIR', help: 'output folder (default: the cluster state folder)' },
      json,
      verbose,
    },
    load: () => import('./commands/render.js'),
  },
  {
    name: 'registries',
    summary: 'apply a registries.yaml to every node of an existing k3s cluster (apply | status | render)',
    subcommands: {
      apply: { usage: 'registries apply --context CTX [-f registries.yaml] [--ca FILE] [--yes]', summary: 'write registries.yaml (default ./registries.yaml) and the CA (as /etc/k3s-devreg/ca.crt) to every node through a DaemonSet, showing what changes with secrets hidden; k3s reads it at start, so it prints which nodes to restart' },
      status: { usage: 'registries status --context CTX [--json]', summary: "per node: the file k3s reads there, and whether it (and the CA) matches what was applied, now" },
      render: { usage: 'registries render --dir DIR [-f registries.yaml]', summary: 'write the manifests apply would apply into DIR, without applying them (for review or GitOps)' },
    },
    options: {
      context: { type: 'string', value: 'CTX', help: 'kubeconfig context of the k3s cluster' },
      file: { type: 'string', short: 'f', value: 'FILE', help: 'registries.yaml to apply' },
      ca: { type: 'string', value: 'FILE', help: 'CA certificate, installed as /etc/k3s-devreg/ca.crt on every node' },
      'writer-image': { type: 'string', value: 'IMAGE', help: `image of the writer DaemonSet (default ${spec.DEFAULT_WRITER_IMAGE}, or env K3S_DEVREG_WRITER_IMAGE)` },
      dir: { type: 'string', short: 'd', value: 'DIR', help: 'output folder for registries render' },
      'no-strict': { type: 'boolean', help: 'report unknown keys and unreachable files in -f as warnings, not errors' },
      json,
      verbose,
      yes,
    },
    load: () => import('./commands/registries.js'),
  },
  {
    name: 'cache',
    summary: 'the pull-through cache every cluster on this docker daemon shares (status | rm)',
    subcommands: {
      status: { usage: 'cache status [--json]', summary: 'per upstream: its URL, container and state, volume, disk used and the clusters using it; exit 1 when a cache container is not running' },
      rm: { usage: 'cache rm [--yes]', summary: 'after asking (or with --yes): remove every cache container, volume and config file of ours; clusters keep working and pull from each upstream themselves' },
    },
    options: { json, verbose, yes: { ...yes, help: 'cache rm: remove without asking' } },
    load: () => import('./commands/cache.js'),
  },
  {
    name: 'images',
    summary: 'the images in our registry (ls | rm | prune | du), and bundles for a machine without a network (save | load)',
    subcommands: {
      ls: { usage: 'images ls [--json]', summary: 'every repository, tag, digest, size and creation time in the registry' },
      rm: { usage: 'images rm REPO[:TAG|@DIGEST] [--yes]', summary: 'delete an image by its digest (every tag of REPO without :TAG); the registry deletes images, not tags, so other tags of the same image go too: they are named before it asks' },
      prune: { usage: 'images prune [--keep N] [--yes]', summary: 'keep the newest N images per repository (default 3; 0 deletes them all), delete the rest, then collect the garbage with the registry read-only (pulls work, pushes are refused for a moment)' },
      du: { usage: 'images du [--json]', summary: "disk used by the registry's volume, and by each repository" },
      save: { usage: 'images save [-o FILE] [--with IMAGE ...] [--k3s-image IMAGE]', summary: 'on a connected machine: one file with every image a cluster needs to start and pass verify, for images load on a machine without a network' },
      load: { usage: 'images load FILE [--name NAME]', summary: "on the other machine: check the bundle, load into docker what docker runs, and put the nodes' images where k3s imports them; then up --offline" },
    },
    options: {
      output: { type: 'string', short: 'o', value: 'FILE', help: 'save: the bundle file (default ./k3s-devreg-images.tar)' },
      with: { type: 'string', multiple: true, value: 'IMAGE', help: 'save: one of your own images for the nodes too (repeat for more)' },
      'k3s-image': { type: 'string', value: 'IMAGE', help: `save: the k3s the bundle is for (default ${spec.DEFAULT_K3S_IMAGE}, the only one whose system images are known)` },
      keep: { type: 'string', value: 'N', help: 'prune: images to keep per repository (tags on one image count once), newest first (default 3)' },
      name,
      config,
      json,
      verbose,
      yes: { ...yes, help: 'rm, prune: delete without asking' },
    },
    load: () => import('./commands/images.js'),
  },
  {
    name: 'doctor',
    summary: 'explain why a pull from our registry fails: checks on this machine and inside every node',
    usage: 'doctor [--name NAME] [--pod POD] [--json]',
    options: {
      name,
      config,
      pod: { type: 'string', value: 'POD', help: 'also read this pod\'s events (NAMESPACE/POD, or POD in default) and say which finding explains them' },
      json,
      verbose,
    },
    load: () => import('./commands/doctor.js'),
  },
];
