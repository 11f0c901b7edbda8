/** The label on every docker object a test creates: the leftovers check (docker-leftovers.ts) counts by it. */
export const TEST_LABEL = 'dev.k3s-devreg/test=1';
