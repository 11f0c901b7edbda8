/**
 * `up --offline`'s first check (issue 13): every image the cluster needs is here, in docker or in the
 * state folder's images/ (what `images load` put there), before anything is created. What is missing
 * is named, with the commands that bring it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { bundleImages, fullName } from '../images/bundle.js';
import { DEFAULT_HOSTS_IMAGE } from '../spec.js';
import { STATE_FILES } from '../state/layout.js';
import { imagesPresent } from '../tools/docker-images.js';
import { k3dVersion } from '../tools/k3d.js';
import { archiveImages, systemImages } from './images-bundle.js';
import type { Reads, UpStep } from './up-context.js';

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.zst|tzst|tar\.lz4|tar\.bz2|tbz)$/;

export const checkOfflineImages: UpStep<Reads<'deps' | 'io' | 'resolved'>, object> = {
  title: 'Checking the images for an offline start',
  readOnly: true,
  run: async (ctx, step) => {
    const { spec } = ctx.resolved;
    if (!spec.offline) {
      step.title('Online start: images missing on the nodes are pulled');
      return {};
    }
    const { k3d } = await k3dVersion(ctx.deps.run);
    const needed = bundleImages({ spec, k3dVersion: k3d, exampleBase: DEFAULT_HOSTS_IMAGE, extra: [], releases: systemImages(), env: ctx.io.env });
    const imagesDir = join(spec.stateDir, STATE_FILES.imagesDir);
    const archives = (() => {
      try {
        return readdirSync(imagesDir).filter((f) => ARCHIVE.test(f));
      } catch {
        return [];
      }
    })();
    const onNodes = new Set((await Promise.all(archives.map((f) => archiveImages(join(imagesDir, f))))).flat());
    const inDocker = await imagesPresent(ctx.deps.run, needed.docker);
    const missing = [...needed.docker.filter((image) => !inDocker.has(image)).map((image) => `${image} (docker)`), ...needed.node.filter((image) => !onNodes.has(fullName(image))).map((image) => `${image} (nodes)`)];
    if (missing.length > 0) {
      throw new UserError(
        `--offline, and ${missing.length} image(s) the cluster needs are not here: ${missing.join(', ')}`,
        `on a connected machine run k3s-devreg images save, then here k3s-devreg images load FILE${spec.name === 'devreg' ? '' : ` --name ${spec.name}`}`,
      );
    }
    step.title(`Offline start: all ${needed.docker.length + needed.node.length} images are here (${needed.node.length} in ${imagesDir})`);
    return {};
  },
};
