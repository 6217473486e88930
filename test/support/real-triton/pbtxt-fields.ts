// Just enough of protobuf's text format to find the top-level fields of a config.pbtxt (name and text
// span), so a config can be rewritten by removing and appending whole fields while every other byte,
// comments included, stays as written. Nested messages and lists are skipped over, not parsed.

export interface PbtxtField {
  readonly name: string;
  /** Offset of the field name. */
  readonly start: number;
  /** Offset just past the value (and a trailing `,` or `;`). */
  readonly end: number;
  /** The value's text: `"python"`, `64`, `[ ... ]`, `{ ... }`. */
  readonly value: string;
}

const CLOSING: Readonly<Record<string, string>> = { '{': '}', '[': ']', '<': '>' };

export function topLevelFields(text: string): PbtxtField[] {
  const fields: PbtxtField[] = [];
  let at = skipBlank(text, 0);
  while (at < text.length) {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(at))?.[0];
    if (name === undefined) throw new SyntaxError(`config.pbtxt: expected a field name at offset ${at}: ${JSON.stringify(text.slice(at, at + 20))}`);
    const start = at;
    at = skipBlank(text, at + name.length);
    if (text[at] === ':') at = skipBlank(text, at + 1);
    const valueStart = at;
    at = skipValue(text, at);
    const value = text.slice(valueStart, at);
    const afterValue = skipBlank(text, at);
    if (text[afterValue] === ',' || text[afterValue] === ';') at = afterValue + 1;
    fields.push({ name, start, end: at, value });
    at = skipBlank(text, at);
  }
  return fields;
}

/** Skips whitespace and `#` comments. */
function skipBlank(text: string, from: number): number {
  let at = from;
  while (at < text.length) {
    const char = text[at];
    if (char === '#') {
      const newline = text.indexOf('\n', at);
      at = newline === -1 ? text.length : newline + 1;
    } else if (char !== undefined && /\s/.test(char)) {
      at += 1;
    } else {
      break;
    }
  }
  return at;
}

function skipValue(text: string, from: number): number {
  const open = text[from];
  if (open !== undefined && open in CLOSING) return skipNested(text, from);
  if (open === '"' || open === "'") {
    // Adjacent string literals concatenate.
    let end = skipString(text, from);
    for (let next = skipBlank(text, end); text[next] === '"' || text[next] === "'"; next = skipBlank(text, end)) end = skipString(text, next);
    return end;
  }
  const token = /^[^\s,;{}[\]<>#]+/.exec(text.slice(from))?.[0];
  if (token === undefined) throw new SyntaxError(`config.pbtxt: expected a value at offset ${from}`);
  return from + token.length;
}

function skipNested(text: string, from: number): number {
  const stack: string[] = [];
  let at = from;
  while (at < text.length) {
    const char = text[at] ?? '';
    if (char === '#') {
      at = skipBlank(text, at);
      continue;
    }
    if (char === '"' || char === "'") {
      at = skipString(text, at);
      continue;
    }
    const closing = CLOSING[char];
    if (closing !== undefined) stack.push(closing);
    else if (char === stack.at(-1)) {
      stack.pop();
      if (stack.length === 0) return at + 1;
    }
    at += 1;
  }
  throw new SyntaxError(`config.pbtxt: unclosed ${text[from]} opened at offset ${from}`);
}

function skipString(text: string, from: number): number {
  const quote = text[from];
  let at = from + 1;
  while (at < text.length && text[at] !== quote) at += text[at] === '\\' ? 2 : 1;
  if (at >= text.length) throw new SyntaxError(`config.pbtxt: unterminated string at offset ${from}`);
  return at + 1;
}
