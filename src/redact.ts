/**
 * Secrets never leave the process in clear: UserSig and secret key are registered here as soon
 * as they are known, and every line written to stderr (errors, warnings, debug traces) passes
 * through `redact`. URLs get their `usersig` query value replaced even when the value was never
 * registered (a UserSig typed on the command line of another tool, a re-signed one).
 */

export const REDACTED = '<redacted>';

/** Shortest text worth redacting: shorter "secrets" would mangle ordinary words. */
const MIN_SECRET_LENGTH = 8;

const USERSIG_PARAM = /([?&]usersig=)[^&#\s"']*/gi;

export class Secrets {
  private readonly values = new Set<string>();

  /** Registers a secret (ignored when empty or too short to be a real one). */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) this.values.add(secret);
  }

  /** The text with every registered secret and every `usersig=` URL value replaced. */
  redact(text: string): string {
    let out = redactUrl(text);
    for (const secret of this.values) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }
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
