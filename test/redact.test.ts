/**
 * The redactor finds a secret however a server escaped it. Each case below hides a piece of a
 * secret behind one kind of escape, with fewer than MIN_SECRET_LENGTH plain characters on each
 * side of every escape: no window of the raw text is a piece of the secret, so only decoding
 * that escape (or matching that alphabet) can find it, and switching the decoding off fails
 * exactly its case. (The end-to-end cases in hostile/fragments.test.ts leave 9 plain characters
 * beside an escape, which the redactor finds without decoding anything.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_SECRET_LENGTH, REDACTED, Secrets } from '../src/redact.js';

/** UserSig-shaped (its alphabet, `*-_` for base64's `+/=`), with one of `*-_` in every 5 characters. */
const SIG = 'eJyr*VgrxC-dYrS_y1Sl*Iy0j-NQ0gH_zM1N*S80o-y0zL_BwokP*uVQB-cUp2Y_kFBZk*pSlaG-JgZQA_JEpyc';
/** A secret in the standard base64 alphabet, with a '/' in every 4 characters. */
const STANDARD = 'aB3/dE6/gH9/jK2/mN5/pQ8/sT1/vW4/yZ7+';

const hex2 = (c: string): string => c.charCodeAt(0).toString(16).padStart(2, '0');

/** `piece` with every `every`-th character written by `escape`. */
function escapeEvery(piece: string, every: number, escape: (c: string) => string): string {
  return [...piece].map((c, i) => (i % every === every - 1 ? escape(c) : c)).join('');
}

/** The longest run of `text` with no escape in it: what a redactor that decodes nothing could match. */
function longestPlainRun(text: string): number {
  return Math.max(...text.split(/%25[0-9a-f]{2}|%[0-9a-f]{2}|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}|\\\/|&#x[0-9a-f]+;|&#[0-9]+;/i).map((p) => p.length));
}

/** `piece` in the standard base64 alphabet: what a server that re-encodes a UserSig prints. */
const toStandard = (piece: string): string => piece.replace(/[*\-_]/g, (c) => ({ '*': '+', '-': '/', _: '=' })[c]!);
const toUrlSafe = (piece: string): string => piece.replace(/[+/=]/g, (c) => ({ '+': '*', '/': '-', '=': '_' })[c]!);

describe('the redactor decodes every escape it claims to', () => {
  const piece = SIG.slice(3, 43);
  const cases: Array<{ name: string; secret: string; hidden: string; escaped?: boolean }> = [
    { name: 'percent-encoding (%41)', secret: SIG, hidden: escapeEvery(piece, 4, (c) => `%${hex2(c).toUpperCase()}`), escaped: true },
    { name: 'double percent-encoding (%2541, lower case)', secret: SIG, hidden: escapeEvery(piece, 4, (c) => `%25${hex2(c)}`), escaped: true },
    { name: 'JSON \\u escapes (\\u0041)', secret: SIG, hidden: escapeEvery(piece, 4, (c) => `\\u00${hex2(c)}`), escaped: true },
    { name: '\\x escapes (\\x41)', secret: SIG, hidden: escapeEvery(piece, 4, (c) => `\\x${hex2(c)}`), escaped: true },
    { name: 'decimal HTML character references (&#65;)', secret: SIG, hidden: escapeEvery(piece, 4, (c) => `&#${c.charCodeAt(0)};`), escaped: true },
    { name: 'hexadecimal HTML character references (&#x41;)', secret: SIG, hidden: escapeEvery(piece, 4, (c) => `&#x${hex2(c)};`), escaped: true },
    { name: 'JSON-escaped slashes (\\/)', secret: STANDARD, hidden: STANDARD.slice(1, 33).replace(/\//g, '\\/'), escaped: true },
    { name: 'the standard base64 alphabet (+/= for *-_)', secret: SIG, hidden: toStandard(piece) },
    { name: 'the UserSig alphabet (*-_ for +/=) of a secret given in the standard one', secret: STANDARD, hidden: toUrlSafe(STANDARD.slice(2, 34)) },
    { name: 'another case, with escapes', secret: SIG, hidden: escapeEvery(piece.toUpperCase(), 4, (c) => `%${hex2(c)}`), escaped: true },
  ];

  for (const c of cases) {
    it(`finds a piece hidden by ${c.name}`, () => {
      // The case defends its decoding only if no window of the raw text is a piece of the
      // secret as it was given, and an escape comes before any MIN_SECRET_LENGTH plain characters.
      const raw = c.hidden.toLowerCase();
      for (let i = 0; i + MIN_SECRET_LENGTH <= raw.length; i++) assert.ok(!c.secret.toLowerCase().includes(raw.slice(i, i + MIN_SECRET_LENGTH)), raw);
      if (c.escaped) assert.ok(longestPlainRun(c.hidden) < MIN_SECRET_LENGTH, c.hidden);
      const secrets = new Secrets();
      secrets.add(c.secret);
      assert.equal(secrets.redact(`said: ${c.hidden}.`), `said: ${REDACTED}.`);
    });
  }
});
