/** Labels and small builders shared by every manifest. */
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TOOL_NAME } from '../../spec.js';

export type KubeObject = Record<string, unknown>;

/** Selectors use only these two: they are immutable on Deployments and DaemonSets. */
export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': TOOL_NAME };
}

/** Every object and pod template carries the managed-by label: only such objects are ever deleted. */
export function labels(name: string): Record<string, string> {
  return { ...selectorLabels(name), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
}

export function metadata(name: string, component: string, namespace?: string): KubeObject {
  return { name, ...(namespace ? { namespace } : {}), labels: labels(component) };
}

export const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Annotation keys under the tool's own domain (the same one as its docker labels). */
export const ANNOTATION_PREFIX = 'dev.k3s-devreg';
