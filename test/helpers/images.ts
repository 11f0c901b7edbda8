/**
 * Local images for the docker tier, built once per machine (Docker Hub is unreachable here):
 * a busybox image from Debian's busybox-static, and a registry:2 stand-in from Debian's docker-registry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUSYBOX_IMAGE = 'k3s-devreg-test/busybox:local';
export const REGISTRY_IMAGE = 'k3s-devreg-test/registry:2.8-debian';

function imageExists(tag: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', tag], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function busyboxBinary(): string {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) {
    try {
      execFileSync(candidate, ['true'], { stdio: 'pipe' });
      return candidate;
    } catch {
      /* try the next one */
    }
  }
  throw new Error('busybox not found: apt-get install busybox-static');
}

/** A scratch image holding a static busybox with its applets installed in /bin. */
export function ensureBusyboxImage(tag = BUSYBOX_IMAGE): string {
  if (imageExists(tag)) return tag;
  const context = mkdtempSync(join(tmpdir(), 'k3s-devreg-busybox-'));
  try {
    copyFileSync(busyboxBinary(), join(context, 'busybox'));
    writeFileSync(
      join(context, 'Dockerfile'),
      'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nRUN ["/bin/mkdir", "-p", "/tmp", "/etc"]\nCMD ["/bin/sh"]\n',
    );
    execFileSync('docker', ['build', '-q', '-t', tag, context], { stdio: 'pipe' });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

export function ensureRegistryImage(tag = REGISTRY_IMAGE): string {
  if (imageExists(tag)) return tag;
  const script = fileURLToPath(new URL('../../registry/build-local-image.sh', import.meta.url));
  execFileSync('sh', [script, tag], { stdio: 'pipe' });
  return tag;
}
