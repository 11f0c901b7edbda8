/** Several YAML documents as one multi-document stream (for `kubectl apply -f -` and for files). */

/**
 * Each document ends in a newline; `---` opens each one (`before-each`), or only separates them
 * (`between`: the registries writer's files and stdin, which have always been written that way).
 */
export function yamlStream(documents: readonly string[], separators: 'before-each' | 'between' = 'before-each'): string {
  const ended = documents.map((d) => (d.endsWith('\n') ? d : `${d}\n`));
  return separators === 'between' ? ended.join('---\n') : ended.map((d) => `---\n${d}`).join('');
}
