/**
 * Typed errors. Every failure the user can cause or meet is one of these; only `main.ts` turns
 * them into an exit code and a message. Each carries a stable `code`, the exit code, and a `hint`
 * that says what to do next.
 */

/** Exit codes, documented in `im-attrs help exit-codes` and the README. */
export const ExitCode = {
  ok: 0,
  /** API or network error: nothing (or not everything) could be fetched. */
  api: 1,
  /** Usage error: bad flags or arguments. */
  usage: 2,
  /** Configuration error: missing or invalid region, SDKAppID, identifier, credentials, file. */
  config: 3,
  /** Authentication error: UserSig, identifier or secret key rejected or unusable. */
  auth: 4,
  /** Partial failure: some accounts failed, the rest were printed. */
  partial: 5,
  /** `plan --detailed-exitcode`: the plan has changes to apply (terraform's -detailed-exitcode 2; 2 is usage here). */
  changes: 6,
  /** Interrupted by SIGINT/SIGTERM. */
  interrupted: 130,
} as const;

/** What each exit status means, in the order `--help` lists them: the one table behind the help and the README. */
export const EXIT_CODE_MEANINGS: ReadonlyArray<readonly [code: number, meaning: string]> = [
  [ExitCode.ok, 'every account was processed'],
  [ExitCode.api, 'API or network error'],
  [ExitCode.usage, 'usage error (bad flags, arguments or input)'],
  [ExitCode.config, 'configuration error (region, SDKAppID, identifier, credentials, config file)'],
  [ExitCode.auth, 'authentication error (UserSig expired or mismatched, identifier not an admin, wrong key)'],
  [ExitCode.partial, 'partial failure: some accounts failed (named on stderr, --save-failed), the rest were printed'],
  [ExitCode.changes, 'plan --detailed-exitcode: changes pending (0: the server already matches)'],
  [ExitCode.interrupted, 'interrupted (Ctrl-C / SIGTERM); output is complete up to that point'],
];

/** The "Exit codes:" block of `--help` and `im-attrs help exit-codes`. */
export const EXIT_CODES_HELP = `\nExit codes:\n${EXIT_CODE_MEANINGS.map(([code, meaning]) => `  ${String(code).padEnd(5)}${meaning}`).join('\n')}`;

export interface ImAttrsErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

/** Base class: a message for humans, a machine code, an exit code and a hint. */
export class ImAttrsError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(code: string, exitCode: number, message: string, options: ImAttrsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Bad flags, arguments or input lines. Exit 2. */
export class UsageError extends ImAttrsError {
  constructor(message: string, options: ImAttrsErrorOptions = {}) {
    super('usage', ExitCode.usage, message, options);
  }
}

/** Missing or invalid configuration. Exit 3. */
export class ConfigError extends ImAttrsError {
  constructor(message: string, options: ImAttrsErrorOptions = {}) {
    super('config', ExitCode.config, message, options);
  }
}

/** Credentials that cannot work: expired/mismatched UserSig, wrong key, non-admin identifier. Exit 4. */
export class AuthError extends ImAttrsError {
  /** The API error code when the server said so (70001, 60010, ...). */
  readonly apiCode: number | undefined;
  constructor(message: string, options: ImAttrsErrorOptions & { apiCode?: number } = {}) {
    super('auth', ExitCode.auth, message, options);
    this.apiCode = options.apiCode;
  }
}

/** The API answered with an error envelope, or with something that is not an envelope. Exit 1. */
export class ApiError extends ImAttrsError {
  /** ErrorCode from the envelope; undefined when the body was not an envelope. */
  readonly apiCode: number | undefined;
  /** ErrorInfo from the envelope, as the server wrote it. */
  readonly errorInfo: string | undefined;
  /** HTTP status when it was not 200. */
  readonly status: number | undefined;
  constructor(
    message: string,
    options: ImAttrsErrorOptions & { apiCode?: number; errorInfo?: string; status?: number } = {},
  ) {
    super('api', ExitCode.api, message, options);
    this.apiCode = options.apiCode;
    this.errorInfo = options.errorInfo;
    this.status = options.status;
  }
}

/** The request never got an answer: DNS, connect, TLS, reset, timeout. Exit 1. */
export class NetworkError extends ImAttrsError {
  /** Node's error code (ECONNRESET, ETIMEDOUT, ENOTFOUND, ...). */
  readonly netCode: string | undefined;
  constructor(message: string, options: ImAttrsErrorOptions & { netCode?: string } = {}) {
    super('network', ExitCode.api, message, options);
    this.netCode = options.netCode;
  }
}

/** Some accounts failed; the rest were printed. Exit 5. The failures were already reported. */
export class PartialFailureError extends ImAttrsError {
  readonly failed: number;
  constructor(message: string, failed: number, options: ImAttrsErrorOptions = {}) {
    super('partial', ExitCode.partial, message, options);
    this.failed = failed;
  }
}

/**
 * A write that is not safe to repeat (a push) whose request may have reached the server: no
 * answer says what became of it. Never sent again, never "failed, re-run it". Exit 1.
 */
export class MaybeSentError extends ImAttrsError {
  constructor(message: string, options: ImAttrsErrorOptions = {}) {
    super('maybe-sent', ExitCode.api, message, options);
  }
}

/** `plan --detailed-exitcode` found changes to apply: not a failure, a status for scripts. Exit 6. */
export class ChangesPendingError extends ImAttrsError {
  constructor(message: string, options: ImAttrsErrorOptions = {}) {
    super('changes', ExitCode.changes, message, options);
  }
}

/** The run was stopped by SIGINT/SIGTERM. Exit 130. */
export class InterruptedError extends ImAttrsError {
  constructor(message = 'interrupted', options: ImAttrsErrorOptions = {}) {
    super('interrupted', ExitCode.interrupted, message, options);
  }
}

/**
 * Whether a run's error says only that some accounts failed (the others were done): a pass of a
 * multi-pass command (plan's read, apply, tags set, undo) goes on after it and reports them at the end.
 */
export function partial(error: unknown): boolean {
  return error instanceof PartialFailureError || (error instanceof ApiError && error.message.startsWith('all '));
}
