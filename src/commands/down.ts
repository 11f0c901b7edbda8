import { notImplemented } from './not-implemented.js';

export const main = notImplemented('down');
