/**
 * The node tier (test/node) needs the docker daemon and a containerd binary to put into the
 * stand-in node. Skipped with a notice without them, except under CI=true, where that fails.
 */
import { dockerAvailable } from './docker.js';
import { containerdBinary } from './k3s-node.js';
import { requireTool } from './tools.js';

export const nodeTierAvailable =
  dockerAvailable && requireTool(containerdBinary() !== undefined, 'containerd', 'apt-get install docker.io (it brings containerd)');
