#!/usr/bin/env node
// docker, k3d and kubectl as programs on PATH, answering from the same model the in-process tests
// use (../fake-world.mjs), so the real CLI (real Runner, real child processes) runs `up`, `status`,
// `down` where k3d cannot run: the CLI tests and `npm run bench`. Put this folder first on PATH.
// Env: FAKE_CLUSTER (default devreg) and FAKE_PORT (default 31113): the cluster a finished `up` left,
// FAKE_TOOLS_LOG (append each call), FAKE_TOOLS_TIMES (each call's start and end, ms since the epoch,
// so the bench can count serial groups), FAKE_TOOLS_STATE (a file holding the model's state as JSON
// between calls: missing = no cluster yet; any other text, e.g. `exists`, = the cluster a finished `up`
// left; unset = that cluster, never saved), FAKE_CREATE_HANG (a file: `k3d cluster create` writes its
// pid there and waits until a signal ends it, as k3d does while it waits for the nodes; Ctrl-C kills it
// without a rollback, so the cluster stays), FAKE_REAL_DOCKER (the real docker's path: login, build and
// push then go to the real daemon and a real registry, while k3d and kubectl stay stand-ins).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { FakeTools } from '../fake-world.mjs';

const [tool = '', ...args] = process.argv.slice(2);
const line = args.join(' ');
const env = process.env;
if (env.FAKE_TOOLS_LOG) appendFileSync(env.FAKE_TOOLS_LOG, `${tool} ${line}\n`);
const times = env.FAKE_TOOLS_TIMES;
if (times) {
  const start = performance.timeOrigin;
  process.on('exit', () => appendFileSync(times, `${JSON.stringify({ call: `${tool} ${line}`, start, end: performance.timeOrigin + performance.now() })}\n`));
}

if (tool === 'docker' && env.FAKE_REAL_DOCKER && ['login', 'build', 'push'].includes(args[0] ?? '')) {
  process.exit(spawnSync(env.FAKE_REAL_DOCKER, args, { stdio: 'inherit' }).status ?? 1);
}

// The versions a current install reports; the verify pod succeeds at once (these runs wait on a real clock).
const world = new FakeTools({ k3dVersion: '5.8.3', k3sVersion: 'v1.31.5-k3s1', kubectlVersion: 'v1.31.4' });
world.podPhases = [{ phase: 'Succeeded' }];

/** The cluster, context and registry volume a finished `up` leaves (its manifests not applied yet). */
function finishedUp() {
  const name = env.FAKE_CLUSTER ?? 'devreg';
  world.cluster = FakeTools.ourCluster(name, Number(env.FAKE_PORT ?? '31113'));
  world.contextInKubeconfig = true;
  world.volumes.set(`k3s-devreg-${name}-registry`, { 'app.kubernetes.io/managed-by': 'k3s-devreg', 'dev.k3s-devreg/cluster': name });
}

const stateFile = env.FAKE_TOOLS_STATE;
if (!stateFile) finishedUp();
else if (existsSync(stateFile)) {
  const text = readFileSync(stateFile, 'utf8');
  let state;
  try {
    state = JSON.parse(text);
  } catch {
    finishedUp();
  }
  if (state) world.loadState(state);
}
const before = JSON.stringify(world.saveState());

// Only the calls that take stdin read it: the others' stdin may stay open.
const takesStdin = (tool === 'kubectl' && args.includes('--filename') && args.includes('-')) || (tool === 'docker' && args[0] === 'login');
const input = takesStdin ? readFileSync(0, 'utf8') : undefined;
let reply;
try {
  reply = world.answer({ file: tool, args, ...(input !== undefined ? { input } : {}) });
} catch (error) {
  process.stderr.write(`fake ${tool}: unexpected ${line} (${error instanceof Error ? error.message : String(error)})\n`);
  process.exit(99);
}

const after = JSON.stringify(world.saveState());
if (stateFile && after !== before) {
  // Whole or not at all: calls that only read may run at the same time as this one.
  writeFileSync(`${stateFile}.${process.pid}`, after);
  renameSync(`${stateFile}.${process.pid}`, stateFile);
}
if (reply.stdout) process.stdout.write(`${reply.stdout}\n`);
if (reply.stderr) process.stderr.write(`${reply.stderr}\n`);
if (tool === 'k3d' && args[1] === 'create' && env.FAKE_CREATE_HANG) {
  writeFileSync(env.FAKE_CREATE_HANG, String(process.pid));
  setInterval(() => {}, 1000);
} else process.exitCode = reply.exitCode ?? 0;
