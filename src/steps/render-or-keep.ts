/**
 * What `up` and `render` call: the stamp's fast path (render-stamp.ts) when nothing would change,
 * else the full render, whose module (and with it yaml, bcrypt and node-forge) loads only then. Its
 * own module, so that render-state.ts can use the stamp without an import circle.
 */
import { keptRender } from './render-stamp.js';
import type { RenderRequest, RenderResult } from './render-types.js';

/** Keeps the files when nothing would change them, else renders them (loading the renderers only then). */
export async function renderOrKeep(request: RenderRequest): Promise<RenderResult> {
  const kept = await keptRender(request);
  if (kept) return kept;
  const { renderState } = await import('./render-state.js');
  return renderState(request);
}
