/** Every YAML text we write, one way, and several documents as one stream (for `kubectl apply -f -` and for files). */
import { Document } from 'yaml';

/**
 * YAML 1.1 quoting: k3s (registries.yaml), kubectl (sigs.k8s.io/yaml) and the registry (its config)
 * read with go-yaml's YAML 1.1 rules, where an unquoted `yes`, `on` or `0123` stops being a string.
 * lineWidth 0: nothing folded (a long token over two lines could not be redacted line by line, and
 * scripts stay readable). No anchors (&a1/*a1) for objects used twice: reviewers and GitOps tools
 * stumble over them.
 */
export function toYaml(value: unknown): string {
  // What yaml's stringify does, through Document: the bundle then keeps yaml's parser out of a render.
  const options = { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false } as const;
  return new Document(value, options).toString(options);
}

/**
 * Each document ends in a newline; `---` opens each one (`before-each`), or only separates them
 * (`between`: the registries writer's files and stdin, which have always been written that way).
 */
export function yamlStream(documents: readonly string[], separators: 'before-each' | 'between' = 'before-each'): string {
  const ended = documents.map((d) => (d.endsWith('\n') ? d : `${d}\n`));
  return separators === 'between' ? ended.join('---\n') : ended.map((d) => `---\n${d}`).join('');
}
