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
