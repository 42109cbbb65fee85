/**
 * Task recipes: the source of `im-attrs help recipes` and of the README's "Recipes" section
 * (test/docs/gen-docs.ts writes it), each run as written against the emulator by
 * test/docs/recipes.test.ts. A recipe's lines are shell: `im-attrs` is the installed command.
 *
 * The files they read are the reader's own; the test gives them: ids.txt (one account ID per
 * line), crm-export.csv (user_id,email,city,level,plan) and a config file with the profiles
 * test and prod.
 */

export interface Recipe {
  /** The task, as a heading: "Export attributes to CSV". */
  title: string;
  /** What to know before running it (one or two sentences), or ''. */
  intro: string;
  /** Shell lines, run in order. */
  lines: readonly string[];
  /** What to know after, or ''. */
  note: string;
}

export const RECIPES: readonly Recipe[] = [
  {
    title: 'Export the attributes of a list of accounts to CSV',
    intro: 'ids.txt holds one account ID per line (a CSV with an account column works too: `--id-column`).',
    lines: ['im-attrs get --file ids.txt --output csv > attrs.csv'],
    note: 'Accounts come out in input order; one that fails is named on stderr and the exit code is 5.',
  },
  {
    title: 'Load a CRM export into attributes',
    intro:
      'From an export with `user_id,email,city,level,plan`: name the account column, pick the attribute columns ' +
      '(`--map crm_city=city` renames one), check, then write:',
    lines: [
      'im-attrs set --file crm-export.csv --id-column user_id --columns city,level --dry-run',
      'im-attrs set --file crm-export.csv --id-column user_id --columns city,level --yes',
    ],
    note: 'Every column that is not the account and not picked must be left out (`--columns`), or `set` names it and sends nothing.',
  },
  {
    title: 'Keep attributes in sync with the CRM, changing only what differs',
    intro: 'A plan shows exactly what would change; apply sends only that (and refuses accounts that moved since the plan):',
    lines: [
      'im-attrs plan --file crm-export.csv --id-column user_id --columns city,level --out plan.ndjson || true',
      'im-attrs apply plan.ndjson --yes',
      'im-attrs plan --file crm-export.csv --id-column user_id --columns city,level --detailed-exitcode',
    ],
    note: 'With `--detailed-exitcode`, plan exits 0 when nothing would change and 6 when changes are pending: a nightly job plans, a person approves, apply runs. `--prune` also removes values the CRM no longer has.',
  },
  {
    title: 'Preview who a push reaches',
    intro: 'Paris gold members among the accounts in ids.txt (no API lists an app\'s accounts):',
    lines: [
      'im-attrs audience --file ids.txt --attrs-and city=Paris --attrs-and level=gold',
      'im-attrs audience --file ids.txt --attrs-and city=Paris --attrs-and level=gold --count',
    ],
    note: 'The condition is evaluated exactly as the push evaluates it; the counts per clause go to stderr.',
  },
  {
    title: 'See how an attribute is distributed',
    intro: '',
    lines: ['im-attrs audience --file ids.txt --by city', 'im-attrs audience --file ids.txt --by level --output csv > levels.csv'],
    note: '',
  },
  {
    title: 'Set one attribute on many accounts, and undo it',
    intro: 'Every write is journaled before each call leaves, with the values it is about to overwrite:',
    lines: ['im-attrs set --file ids.txt level=silver --yes', 'im-attrs history', 'im-attrs undo last --yes'],
    note:
      '`undo` puts back the old values, removes the attribute from the accounts that did not have it, and is journaled ' +
      'itself (undo it in turn). `--backup FILE` writes the same before-state out as records.',
  },
  {
    title: 'Re-run only what failed',
    intro: '',
    lines: ['im-attrs get --file ids.txt --output ndjson --save-failed failed.txt > attrs.ndjson || im-attrs get --file failed.txt --output ndjson >> attrs.ndjson'],
    note: 'For writes, `--save-failed` writes the failed records, ready for `im-attrs set --file`.',
  },
  {
    title: 'Work with a test app and a production app',
    intro:
      'Give each app a profile in the config file (`im-attrs config init --profile test`, then `--profile prod`), ' +
      'pick one per command with `--profile`, or make one the default:',
    lines: ['im-attrs config use', 'im-attrs config use test', 'im-attrs config current', 'im-attrs get user000001 --profile prod'],
    note: 'An `IMADMIN_*` variable overrides the profile (with a warning): leave them unset when you use profiles.',
  },
  {
    title: 'Copy attributes from the test app to production',
    intro: '',
    lines: ['im-attrs get --file ids.txt --output ndjson --profile test > test-attrs.ndjson', 'im-attrs set --file test-attrs.ndjson --profile prod --yes'],
    note: '`set` writes the attributes each record has and leaves the others alone.',
  },
  {
    title: 'Tag accounts',
    intro: '',
    lines: ['im-attrs tags add user000001 vip', 'im-attrs tags get user000001 user000002', 'im-attrs tags remove user000001 vip'],
    note: 'A push can target tags: `--tags-and`, `--tags-or` (and `--tags-not` on TIMPush).',
  },
  {
    title: 'Send a push',
    intro: 'Check the request first: `--dry-run` prints the body and sends nothing; on a terminal `push send` asks, in a script it needs `--yes`.',
    lines: [
      'im-attrs push send --attrs-and city=Paris --attrs-and level=gold --text "20% off for gold members" --dry-run',
      'im-attrs push send --attrs-and city=Paris --attrs-and level=gold --text "20% off for gold members" --yes',
    ],
    note: 'It prints the TaskId. A push whose answer is lost is never sent again: it says "may have been sent".',
  },
  {
    title: "Read a push's statistics (TIMPush)",
    intro: '',
    lines: ['task=$(im-attrs --api timpush push send --tags-and vip --text "Hello" --yes)', 'im-attrs --api timpush push stats "$task"', 'im-attrs --api timpush push stats'],
    note: 'Without a TaskId, `push stats` lists every push of the last 30 days.',
  },
  {
    title: 'Push to an exact list, and find out where it was lost (TIMPush)',
    intro:
      'The accounts a preview matched go straight to a list push (500 a call, at the TIMPush edition\'s rate); ' +
      'each call is written to a manifest before it leaves, and the report reads the funnel and loss reasons of every call:',
    lines: [
      'im-attrs audience --file ids.txt --attrs-and city=Paris --output ndjson > paris.ndjson',
      'im-attrs --api timpush push send --to paris.ndjson --text "Bonjour" --manifest paris.manifest.ndjson --yes',
      'im-attrs --api timpush push report --manifest paris.manifest.ndjson',
    ],
    note:
      'A call whose answer is lost is never sent again: it is "may have been sent" in the manifest and the report. ' +
      'If the run stops, `--resume paris.manifest.ndjson` sends exactly the calls not yet sent.',
  },
  {
    title: 'Schedule a push (TIMPush)',
    intro: 'The time is yours (local, or with an offset); it is sent as UTC:',
    lines: ['im-attrs --api timpush push schedule create --tags-or vip --text "Sale starts" --at 2030-12-24T09:00 --yes', 'im-attrs --api timpush push schedule list --from 2030-12-01T00:00 --until 2030-12-31T00:00'],
    note: '`push schedule edit` and `cancel` work while the task is pending.',
  },
  {
    title: 'Check the setup',
    intro: '',
    lines: ['im-attrs doctor', 'im-attrs config show'],
    note: '`doctor` checks the config file, credentials, network, clock and API access, with a fix for each problem.',
  },
  {
    title: 'Try anything against the emulator',
    intro: 'A local emulator of the REST API, with 1,000 sample users; nothing leaves the machine:',
    lines: [
      'im-attrs emulator --seed-users 1000 > emulator.url &',
      'until [ -s emulator.url ]; do sleep 0.1; done',
      'export IMADMIN_ENDPOINT=$(head -1 emulator.url) IMADMIN_SDKAPPID=1400000000 \\',
      '  IMADMIN_IDENTIFIER=administrator IMADMIN_SECRET_KEY=any-key-for-the-emulator',
      'im-attrs get user000001 user000002',
      'kill %1',
    ],
    note: 'Without `--secret-key-file` the emulator only checks that a UserSig is present: any key signs one.',
  },
];

/** The text of `im-attrs help recipes`. */
export function recipesHelp(): string {
  const blocks = RECIPES.map((r) => [`${r.title}:`, ...r.lines.map((l) => (l.startsWith('  ') ? `    ${l}` : `  $ ${l}`))].join('\n'));
  return ['Task recipes: each runs as written (README.md has them with notes).', '', blocks.join('\n\n'), ''].join('\n');
}
