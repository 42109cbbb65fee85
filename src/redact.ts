/**
 * Secrets never leave the process in clear: UserSig and secret key are registered here as soon
 * as they are known, and every line written to stderr (errors, warnings, debug traces) passes
 * through `redact`. URLs get their `usersig` query value replaced even when the value was never
 * registered (a UserSig typed on the command line of another tool, a re-signed one).
 */

export const REDACTED = '<redacted>';

/** Shortest text worth redacting: shorter "secrets" would mangle ordinary words. */
export const MIN_SECRET_LENGTH = 8;

const USERSIG_PARAM = /([?&]usersig=)[^&#\s"']*/gi;

export class Secrets {
  private readonly values = new Set<string>();
  private index: FragmentIndex | undefined;

  /** Registers a secret (ignored when empty or too short to be a real one). */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH && !this.values.has(secret)) {
      this.values.add(secret);
      this.index = undefined;
    }
  }

  /**
   * The text with every `usersig=` URL value and every piece of a registered secret of
   * MIN_SECRET_LENGTH characters or more replaced, raw or encoded (see FragmentIndex).
   */
  redact(text: string): string {
    const out = redactUrl(text);
    if (this.values.size === 0) return out;
    this.index ??= new FragmentIndex(this.values);
    return this.index.redact(out);
  }
}

/**
 * Finds every run of text made of pieces of a secret, however the server wrote them: cut short,
 * split in two, percent-encoded (%2A, %2a, double-encoded %252A), JSON-escaped (\u002a, \/), as
 * HTML character references (&#42; &#x2a;), in another case, or in the standard base64 alphabet
 * (`+/=` for the UserSig's `*-_`). The text is decoded into one normalised character per escape,
 * keeping where each came from; every MIN_SECRET_LENGTH-character window is looked up in a Set of
 * the secrets' windows (O(n) for a text of n characters, whatever the secrets' length), and the
 * original span of each covered run becomes <redacted>.
 */
export class FragmentIndex {
  private readonly grams = new Set<string>();
  /** A bit per rolling-hash bucket of the windows: most positions of a long text are ruled out without a string. */
  private readonly filter = new Uint8Array(FILTER_BITS >>> 3);

  constructor(secrets: Iterable<string>) {
    for (const secret of secrets) {
      for (const form of secretForms(secret)) {
        for (let i = 0; i + MIN_SECRET_LENGTH <= form.length; i++) {
          const gram = form.slice(i, i + MIN_SECRET_LENGTH);
          this.grams.add(gram);
          const bucket = bucketOf(windowHash(gram, 0));
          this.filter[bucket >>> 3]! |= 1 << (bucket & 7);
        }
      }
    }
  }

  redact(text: string): string {
    if (text.length < MIN_SECRET_LENGTH || this.grams.size === 0) return text;
    const { norm, start, end } = normalise(text);
    const n = norm.length;
    // Covered runs in normalised positions, merged as they are found.
    const runs: Array<[number, number]> = [];
    let hash = n >= MIN_SECRET_LENGTH ? windowHash(norm, 0) : 0;
    for (let j = 0; j + MIN_SECRET_LENGTH <= n; j++) {
      if (j > 0) hash = (Math.imul(hash - Math.imul(norm.charCodeAt(j - 1), HASH_TOP), HASH_BASE) + norm.charCodeAt(j + MIN_SECRET_LENGTH - 1)) >>> 0;
      const bucket = bucketOf(hash);
      if ((this.filter[bucket >>> 3]! & (1 << (bucket & 7))) === 0) continue;
      if (!this.grams.has(norm.slice(j, j + MIN_SECRET_LENGTH))) continue;
      const last = runs[runs.length - 1];
      if (last && j <= last[1]) last[1] = j + MIN_SECRET_LENGTH;
      else runs.push([j, j + MIN_SECRET_LENGTH]);
    }
    if (runs.length === 0) return text;
    let out = '';
    let at = 0;
    for (const [from, to] of runs) {
      const a = start ? start[from]! : from;
      const b = end ? end[to - 1]! : to;
      out += `${text.slice(at, a)}${REDACTED}`;
      at = b;
    }
    return out + text.slice(at);
  }
}

const HASH_BASE = 31;
/** HASH_BASE ** (MIN_SECRET_LENGTH - 1), modulo 2^32: the weight of a window's first character. */
const HASH_TOP = (() => {
  let p = 1;
  for (let i = 1; i < MIN_SECRET_LENGTH; i++) p = Math.imul(p, HASH_BASE);
  return p;
})();
const FILTER_BITS = 1 << 20;

/** The polynomial hash of the window at `from` (the same one the scan rolls). */
function windowHash(text: string, from: number): number {
  let h = 0;
  for (let i = from; i < from + MIN_SECRET_LENGTH; i++) h = (Math.imul(h, HASH_BASE) + text.charCodeAt(i)) >>> 0;
  return h;
}

function bucketOf(hash: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> 12;
}

/** The forms a secret is matched in (lower-cased, as the text is): as is, and in the standard base64 alphabet. */
function secretForms(secret: string): string[] {
  const lower = asciiLower(secret);
  const standard = lower.replace(/[*\-_]/g, (c) => (c === '*' ? '+' : c === '-' ? '/' : '='));
  const urlsafe = lower.replace(/[+/=]/g, (c) => (c === '+' ? '*' : c === '/' ? '-' : '_'));
  return [...new Set([lower, standard, urlsafe])];
}

const HEX = /^[0-9a-fA-F]+$/;

/** Lower case for A-Z only: the same length, so positions still match the original. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * The text lower-cased with every escape of one character decoded, and for each normalised
 * character the span of the original it came from (undefined arrays: the identity).
 */
function normalise(text: string): { norm: string; start: Int32Array | undefined; end: Int32Array | undefined } {
  if (!ESCAPE_START.test(text)) return { norm: asciiLower(text), start: undefined, end: undefined };
  const start = new Int32Array(text.length);
  const end = new Int32Array(text.length);
  const parts: string[] = [];
  let k = 0;
  let i = 0;
  while (i < text.length) {
    // A plain run up to the next possible escape is copied as it is.
    ESCAPE_SCAN.lastIndex = i;
    const next = ESCAPE_SCAN.exec(text)?.index ?? text.length;
    if (next > i) {
      parts.push(asciiLower(text.slice(i, next)));
      for (let p = i; p < next; p++, k++) {
        start[k] = p;
        end[k] = p + 1;
      }
      i = next;
      continue;
    }
    const [char, length] = decodeAt(text, i);
    start[k] = i;
    end[k] = i + length;
    k++;
    parts.push(asciiLower(char));
    i += length;
  }
  return { norm: parts.join(''), start, end };
}

const ESCAPE_START = /[%\\&]/;
const ESCAPE_SCAN = /[%\\&]/g;

/** The character an escape at `i` stands for and the escape's length (the character itself: 1). */
function decodeAt(text: string, i: number): [string, number] {
  const c = text[i]!;
  if (c === '%') {
    if (text.startsWith('%25', i) && HEX.test(text.slice(i + 3, i + 5)) && i + 5 <= text.length) {
      return [String.fromCharCode(parseInt(text.slice(i + 3, i + 5), 16)), 5];
    }
    const hex = text.slice(i + 1, i + 3);
    if (hex.length === 2 && HEX.test(hex)) return [String.fromCharCode(parseInt(hex, 16)), 3];
  } else if (c === '\\') {
    if (text[i + 1] === 'u') {
      const hex = text.slice(i + 2, i + 6);
      if (hex.length === 4 && HEX.test(hex)) return [String.fromCharCode(parseInt(hex, 16)), 6];
    } else if (text[i + 1] === 'x') {
      const hex = text.slice(i + 2, i + 4);
      if (hex.length === 2 && HEX.test(hex)) return [String.fromCharCode(parseInt(hex, 16)), 4];
    } else if (text[i + 1] === '/') {
      return ['/', 2];
    }
  } else if (c === '&' && text[i + 1] === '#') {
    const m = /^&#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}));/.exec(text.slice(i, i + 12));
    if (m) {
      const code = m[1] !== undefined ? Number(m[1]) : parseInt(m[2]!, 16);
      // One UTF-16 unit per position; a secret is ASCII, so anything above is no piece of one.
      if (code <= 0xffff) return [String.fromCharCode(code), m[0].length];
    }
  }
  return [c, 1];
}

/** Replaces the value of every `usersig=` query parameter in the text. */
export function redactUrl(text: string): string {
  return text.replace(USERSIG_PARAM, `$1${REDACTED}`);
}

/**
 * Where the authority of a URL starts: after "scheme:" and the slashes that follow it, or right
 * after "http(s):" without slashes (the URL parser allows that for special schemes).
 */
const AUTHORITY_START = /^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:[/\\]+|(?:https?|wss?|ftp|file):)/i;

/**
 * `text` (a URL as the user typed it, or something meant to be one) with the password of its
 * user info replaced by `***`, keeping the user name: `https://admin:***@proxy.example.com`.
 * Works on the text, not on a parsed URL, so it also hides the password in a string that does
 * not parse (`https://admin:p#ss@proxy`, where an unencoded # cuts the authority short).
 */
export function maskUrlPassword(text: string): string {
  const start = AUTHORITY_START.exec(text)?.[0].length ?? 0;
  const rest = text.slice(start);
  // The authority ends at the first / \ ? or #; its user info at the last @ before that.
  let at = rest.slice(0, rest.search(/[/\\?#]|$/)).lastIndexOf('@');
  if (at === -1 && !URL.canParse(text.trim())) at = rest.lastIndexOf('@');
  const colon = rest.indexOf(':');
  if (at === -1 || colon === -1 || colon > at) return text;
  return `${text.slice(0, start)}${rest.slice(0, colon)}:***${rest.slice(at)}`;
}
