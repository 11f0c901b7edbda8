/**
 * The pull-error classifier on real lines: containerd.log lines made by the real containerd of the
 * node tier (test/fixtures/containerd-log/*.log, see SOURCE.md there) and lines quoted in k3s issues
 * (issues.tsv, each with its URL), and lines written in containerd's own format for a shape the node
 * tier cannot make (formatted.tsv, each with its source). Every fixture line must be classified to the
 * kind its file names, except that connection-refused.log (no mirror for localhost:31113, so the node
 * asks its own http://localhost:31113) ends at k3s's fallback endpoint and is mirror-not-found.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseContainerdLogLine, pullErrorsFor } from '../../../src/doctor/containerd-log.js';
import { explainPullError, type PullErrorKind } from '../../../src/doctor/pull-errors.js';

const DIR = new URL('../../fixtures/containerd-log/', import.meta.url);
const HOSTS = ['container-registry.local:5000', 'localhost:31113'];

/** Each <kind>.log holds containerd.log lines whose PullImage error is of that kind. */
const logFixtures = readdirSync(DIR).filter((f) => f.endsWith('.log')).map((f) => [f.replace(/\.log$/, '') as PullErrorKind, readFileSync(new URL(f, DIR), 'utf8')] as const);

/** A .tsv of kind, URL, the line. */
const tsv = (file: string) =>
  readFileSync(new URL(file, DIR), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split('\t') as [PullErrorKind, string, string]);
const issueLines = tsv('issues.tsv');
const formattedLines = tsv('formatted.tsv');

/** The kind each fixture file's lines are classified as. */
const KIND_OF: Record<string, PullErrorKind> = { 'x509-expired': 'x509', 'x509-name': 'x509', 'connection-refused': 'mirror-not-found' };
const kindOf = (file: string): PullErrorKind => KIND_OF[file] ?? (file as PullErrorKind);

describe('containerd.log lines from the real containerd of the node tier', () => {
  it('has a fixture for every kind the node tier can make', () => {
    expect(logFixtures.map(([kind]) => kind).sort()).toEqual(['connection-refused', 'http-to-https', 'manifest-unknown', 'mirror-not-found', 'no-route', 'no-such-host', 'timeout', 'unauthorized', 'x509', 'x509-expired', 'x509-name'].sort());
  });

  it.each(logFixtures)('%s: every PullImage failure line is classified to its kind', (kind, text) => {
    const failed = text.split('\n').filter((l) => /msg="PullImage \\".*\\" failed"/.test(l));
    expect(failed.length).toBeGreaterThan(0);
    for (const line of failed) {
      const parsed = parseContainerdLogLine(line);
      expect(parsed?.level).toBe('error');
      expect(parsed?.error).toMatch(/^(rpc error: code = NotFound desc = )?failed to pull and unpack image/);
      expect(explainPullError(parsed!.error!)?.kind).toBe(kindOf(kind));
    }
    const [last] = pullErrorsFor(text, HOSTS, 1);
    expect(last?.explanation?.kind).toBe(kindOf(kind));
    expect(last?.quote).toBe(failed.at(-1)!.trim());
  });
});

describe('what each class says to do here', () => {
  const explain = (kind: string) => {
    const [, text] = logFixtures.find(([k]) => k === kind)!;
    return pullErrorsFor(text, HOSTS, 1)[0]!.explanation!;
  };
  it('names the cause in our setup and the fix', () => {
    expect(explain('x509').cause).toContain('/etc/k3s-devreg/ca.crt');
    expect(explain('x509').fix).toMatch(/^run k3s-devreg up/);
    expect(explain('x509-name').cause).toContain('does not cover the name other-name.example (it is valid for container-registry.local, localhost');
    expect(explain('x509-expired').cause).toMatch(/validity dates.*current time .* is after 2024-02-01T00:00:00Z/);
    expect(explain('unauthorized').cause).toContain("differ from the registry's htpasswd");
    expect(explain('unauthorized').fix).toMatch(/^run k3s-devreg up.*rewrites the htpasswd Secret and registries.yaml/);
    expect(explain('no-such-host').cause).toContain('/etc/hosts has no line for it');
    expect(explain('no-such-host').fix).toContain('daemonset/registry-hosts');
    expect(explain('no-route').cause).toContain('old ClusterIP');
    // No mirror for localhost:31113 made these lines: the explanation names that case and the finding that reports it.
    expect(explain('connection-refused').cause).toContain("containerd's last try was http://localhost:31113 inside the node: the node's own localhost, which is not the way to the registry (dial tcp 127.0.0.1:31113: connect: connection refused)");
    expect(explain('connection-refused').cause).toMatch(/our mirror, answered 'not found'.*localhost:31113\/team\/hello-35a238b2:1 is most likely not in the registry — unless the node has no mirror for localhost:31113, which the hosts.toml and registries.yaml findings then report$/);
    expect(explain('connection-refused').fix).toBe('push it (docker push localhost:31113/team/hello-35a238b2:1) or correct the name and tag in the pod spec; k3s-devreg images ls shows what the registry holds; if the node\'s hosts.toml finding fails, run k3s-devreg up');
    expect(explain('manifest-unknown').fix).toContain('docker push localhost:<port>/<repository>:<tag>');
    expect(explain('mirror-not-found').cause).toMatch(/^containerd's last try was http:\/\/localhost:31113 inside the node: .*our mirror, answered 'not found'.*, so localhost:31113\/team\/hello-334749cf:no-such-tag is most likely not in the registry/);
    expect(explain('mirror-not-found').fix).toMatch(/^push it \(docker push localhost:31113\/team\/hello-334749cf:no-such-tag\)/);
    expect(explain('http-to-https').cause).toContain('plain http');
    expect(explain('timeout').fix).toContain('get service registry');
  });
});

describe('lines quoted in k3s and containerd issues', () => {
  it('has some', () => expect(issueLines.length).toBeGreaterThanOrEqual(5));
  it.each(issueLines)('%s (%s)', (kind, _url, line) => {
    expect(explainPullError(line)?.kind).toBe(kind);
  });
});

describe("lines in containerd's own format (formatted.tsv)", () => {
  it('has the 400 shape', () => expect(formattedLines.filter(([, , line]) => line.includes(': 400 Bad Request')).length).toBeGreaterThanOrEqual(2));
  it.each(formattedLines)('%s (%s)', (kind, _url, line) => {
    expect(explainPullError(line)?.kind).toBe(kind);
    const parsed = parseContainerdLogLine(line);
    if (parsed?.error) expect(explainPullError(parsed.error)?.kind).toBe(kind);
  });
  it('a 400 from the fallback: the status quoted, the image to push named', () => {
    const [, , event] = formattedLines.find(([, , l]) => l.startsWith('Failed to pull image "localhost:31113/app:missing"'))!;
    const explained = explainPullError(event)!;
    expect(explained.cause).toMatch(/^containerd's last try was http:\/\/localhost:31113 inside the node: .* \(400 Bad Request\); the endpoint before it, our mirror, answered 'not found'/);
    expect(explained.fix).toMatch(/^push it \(docker push localhost:31113\/app:missing\)/);
    const [, , line] = formattedLines.find(([, , l]) => l.startsWith('time='))!;
    expect(pullErrorsFor(line, HOSTS)[0]?.explanation).toEqual(explained);
  });
});

describe('the fallback endpoint of localhost:<port> (mirror-not-found)', () => {
  const refused = (port: number, host = 'localhost') =>
    `Failed to pull image "localhost:${port}/app:missing": failed to pull and unpack image "localhost:${port}/app:missing": failed to resolve reference "localhost:${port}/app:missing": failed to do request: Head "http://${host}:${port}/v2/app/manifests/missing": dial tcp 127.0.0.1:${port}: connect: connection refused`;
  it('is told by the registry\'s published port: another localhost port that refuses is connection-refused', () => {
    expect(explainPullError(refused(31113))?.kind).toBe('mirror-not-found');
    expect(explainPullError(refused(40000), 40000)?.kind).toBe('mirror-not-found');
    expect(explainPullError(refused(40000, '127.0.0.1'), 40000)?.kind).toBe('mirror-not-found');
    expect(explainPullError(refused(40000))?.kind).toBe('connection-refused');
    expect(explainPullError(refused(31113), 40000)?.kind).toBe('connection-refused');
  });
  it('pullErrorsFor reads the port from the hosts it is given', () => {
    const line = `time="t" level=error msg="PullImage \\"localhost:40000/app:missing\\" failed" error="${refused(40000).replace(/^Failed to pull image "[^"]+": /, '').replaceAll('"', '\\"')}"`;
    const [found] = pullErrorsFor(line, ['container-registry.local:5000', 'localhost:40000']);
    expect([found?.image, found?.explanation?.kind]).toEqual(['localhost:40000/app:missing', 'mirror-not-found']);
  });
  it('an https endpoint or the mirror\'s own error is not the fallback', () => {
    expect(explainPullError(refused(31113).replace('http://', 'https://'))?.kind).toBe('connection-refused');
    expect(explainPullError('Failed to pull image "localhost:31113/app:1": failed to resolve reference "localhost:31113/app:1": localhost:31113/app:1: not found')?.kind).toBe('manifest-unknown');
  });
});

describe('parseContainerdLogLine', () => {
  it('reads logfmt with Go-quoted values', () => {
    const line = 'time="2026-12-02T04:20:00.1Z" level=error msg="PullImage \\"a:1\\" failed" error="x \\"q\\" \\\\ \\u00fc\\x41" host=h:5000';
    expect(parseContainerdLogLine(line)).toEqual({
      time: '2026-12-02T04:20:00.1Z', level: 'error', msg: 'PullImage "a:1" failed', error: 'x "q" \\ üA',
      fields: { time: '2026-12-02T04:20:00.1Z', level: 'error', msg: 'PullImage "a:1" failed', error: 'x "q" \\ üA', host: 'h:5000' },
    });
  });
  it('is undefined for what is not a log line', () => {
    expect(parseContainerdLogLine('panic: runtime error')).toBeUndefined();
    expect(parseContainerdLogLine('')).toBeUndefined();
  });
});

describe('pullErrorsFor', () => {
  const line = (time: string, image: string, error: string, level = 'error') =>
    `time="${time}" level=${level} msg="PullImage \\"${image}\\" failed" error="${error}"`;
  it('keeps the last errors about our hosts, a repeated one once at its last time', () => {
    const log = [
      line('t1', 'container-registry.local:5000/a:1', 'x: 401 Unauthorized'),
      line('t2', 'docker.io/library/b:1', 'y: 401 Unauthorized'),
      line('t3', 'localhost:31113/a:1', 'z: connect: connection refused'),
      line('t4', 'container-registry.local:5000/a:1', 'x: 401 Unauthorized'),
      line('t5', 'localhost:31113/a:1', 'some info', 'info'),
    ].join('\n');
    expect(pullErrorsFor(log, HOSTS).map((e) => [e.time, e.image, e.explanation?.kind])).toEqual([
      ['t3', 'localhost:31113/a:1', 'connection-refused'],
      ['t4', 'container-registry.local:5000/a:1', 'unauthorized'],
    ]);
    expect(pullErrorsFor(log, HOSTS, 1).map((e) => e.time)).toEqual(['t4']);
    expect(pullErrorsFor(log, ['other:1'])).toEqual([]);
  });
  it('forgets a failure once the same image was pulled after it', () => {
    const log = [
      line('t1', 'localhost:31113/a:1', 'x: 401 Unauthorized'),
      line('t2', 'localhost:31113/b:1', 'x: 401 Unauthorized'),
      'time="t3" level=info msg="PullImage \\"localhost:31113/a:1\\" returns image reference \\"sha256:0123\\""',
    ].join('\n');
    expect(pullErrorsFor(log, HOSTS).map((e) => e.image)).toEqual(['localhost:31113/b:1']);
  });
  it('cuts a very long line in the middle, keeping the cause at its end', () => {
    const [e] = pullErrorsFor(line('t', 'localhost:31113/a:1', `x${'y'.repeat(1000)}: connect: connection refused`), HOSTS);
    expect(e?.quote.length).toBe(600);
    expect(e?.quote).toMatch(/^time="t" level=error msg="PullImage .* … y+: connect: connection refused"$/);
  });
  it('leaves an unknown error unexplained', () => {
    expect(explainPullError('something else entirely')).toBeUndefined();
  });
});
