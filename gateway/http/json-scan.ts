// One linear pass over a JSON text's raw UTF-8 bytes before it is parsed: how deeply it nests, and how
// many values of each kind it holds. What JSON.parse would build is known from these counts, so a
// hostile body ("[[[[...]]]]" a million levels deep; millions of tiny numbers, strings, empty arrays or
// object keys that cost many times their size once parsed) is refused before anything is built.

const OPEN_BRACKET = 0x5b; // [
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACKET = 0x5d; // ]
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COMMA = 0x2c; // ,
const COLON = 0x3a; // :
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** What a JSON text holds, below its root value. Exact for valid JSON; invalid JSON is JSON.parse's to judge. */
export interface JsonCounts {
  /** Numbers, strings, true, false and null that are array items or member values. */
  readonly scalars: number;
  /** Arrays and objects that are array items or member values. */
  readonly containers: number;
  /** Object members (keys). */
  readonly members: number;
}

export type JsonScan = ({ readonly ok: true } & JsonCounts) | { readonly ok: false; readonly problem: 'depth' };

export function scanJson(json: Uint8Array, maxDepth: number): JsonScan {
  // inArray[d] says whether the container at depth d is an array; depth never exceeds maxDepth.
  const inArray = new Uint8Array(maxDepth + 2);
  let depth = 0;
  let values = 0;
  let containers = 0;
  let members = 0;
  let inString = false;
  /** After "[" or ",": a value comes next, unless "]". */
  let awaitingItem = false;
  /** After "{" or "," in an object: a key comes next, unless "}". */
  let awaitingKey = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === SPACE || byte === LINE_FEED || byte === CARRIAGE_RETURN || byte === TAB) continue;
    if (awaitingItem) {
      awaitingItem = false;
      if (byte !== CLOSE_BRACKET) values++;
    } else if (awaitingKey) {
      awaitingKey = false;
      if (byte !== CLOSE_BRACE) members++;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === COMMA) {
      if (inArray[depth] === 1) awaitingItem = true;
      else awaitingKey = true;
    } else if (byte === COLON) values++;
    else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > maxDepth) return { ok: false, problem: 'depth' };
      if (depth > 1) containers++;
      const array = byte === OPEN_BRACKET;
      inArray[depth] = array ? 1 : 0;
      awaitingItem = array;
      awaitingKey = !array;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      if (depth > 0) depth--;
    }
  }
  return { ok: true, scalars: values - containers, containers, members };
}
