/** Go's quoted strings (strconv.Quote, fmt %q), as containerd's log and k3s's TOML files carry them. Pure. */

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
const HEX_DIGITS: Record<string, number> = { x: 2, u: 4, U: 8 };

/** Reads the quoted string that starts at `start` (the opening quote); returns its value and the index after the closing quote. */
export function readGoQuoted(text: string, start: number): [string, number] {
  let out = '';
  let i = start + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] !== '\\') {
      out += text[i++];
      continue;
    }
    const c = text[i + 1] ?? '';
    const digits = HEX_DIGITS[c];
    if (digits) {
      out += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + digits), 16) || 0xfffd);
      i += 2 + digits;
    } else {
      out += ESCAPES[c] ?? c;
      i += 2;
    }
  }
  return [out, i + 1];
}
