/**
 * A port of Go's os.Expand, which k3d applies to its whole config file before parsing
 * (see FACTS.md). Used to prove rendered configs survive that expansion unchanged.
 */
const isSpecial = (c: string) => '*#$@!?-'.includes(c) || /[0-9]/.test(c);
const isAlphaNum = (c: string) => /[A-Za-z0-9_]/.test(c);

function shellName(s: string): [name: string, width: number] {
  if (s[0] === '{') {
    if (s.length > 2 && isSpecial(s[1]!) && s[2] === '}') return [s[1]!, 3];
    for (let i = 1; i < s.length; i++) {
      if (s[i] === '}') return i === 1 ? ['', 2] : [s.slice(1, i), i + 1];
    }
    return ['', 1];
  }
  if (isSpecial(s[0]!)) return [s[0]!, 1];
  let i = 0;
  while (i < s.length && isAlphaNum(s[i]!)) i++;
  return [s.slice(0, i), i];
}

export function goExpand(s: string, mapping: (name: string) => string): string {
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '$' && j + 1 < s.length) {
      out += s.slice(i, j);
      const [name, width] = shellName(s.slice(j + 1));
      if (name === '' && width > 0) {
        // invalid syntax: Go eats the characters
      } else if (name === '') {
        out += '$';
      } else {
        out += mapping(name);
      }
      j += width;
      i = j + 1;
    }
  }
  return out + s.slice(i);
}
