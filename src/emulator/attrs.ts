/**
 * Attribute endpoints of both families: all_member_push `im_*_attr*` (API.md §2) and TIMPush
 * `get/set_attr_name`, `get/set/remove_attr` (PUSH-FAMILY.md §3).
 *
 * Choices where the documentation is silent (API.md says UNKNOWN):
 * - `im_get_attr` lists an account that was never imported under `ErrorList` with 70107, as the
 *   newer v4/timpush/get_attr does, and answers out of request order, as the official sample does;
 * - `im_set_attr` on an unknown account imports it;
 * - `im_set_attr_name` merges the slots it is given into the existing ones ("" clears a slot);
 * - all_member_push writes validate the whole request first and apply nothing on an error (that
 *   family documents no per-account errors); TIMPush applies what it can and lists the rest
 *   (70107 not imported, 90035 other account type) in `ErrorList`, in request order.
 */
import { byteLength, fail, invalidFormat, isPlainObject, notImported, ok, okWithErrors, type Answer, type ErrorItem } from './answer.js';
import { accountLimit, row, type EmulatorContext, type Endpoint, type Handler } from './context.js';
import { timpushAccounts } from './context.js';
import { CODES, MAX_ACCOUNTS, MAX_ATTR_BYTES, MAX_ATTR_SLOTS, REST_CALLS_PER_SECOND } from './limits.js';
import type { AccountType } from './state.js';

/** `body[field]` as a list of non-empty strings, or the 90001 Answer refusing it. */
export function accountList(body: Record<string, unknown>, field: string): string[] | Answer {
  const list = body[field];
  if (!Array.isArray(list) || list.some((a) => typeof a !== 'string' || a === '')) return fail(CODES.format, invalidFormat(field));
  return list as string[];
}

/** A slot key "0".."9". */
function isSlot(slot: string): boolean {
  return /^[0-9]$/.test(slot) && Number(slot) < MAX_ATTR_SLOTS;
}

/** One `UserAttrs` entry turned into slot changes (value undefined: remove). */
interface AttrChange {
  account: string;
  slots: Array<[string, string | undefined]>;
}

/**
 * The `UserAttrs` of set_attr/remove_attr as slot changes, or the Answer refusing the request:
 * set takes `Attrs` as a name → value object, remove as a list of names (API.md §2).
 */
function attrChanges(body: Record<string, unknown>, remove: boolean, slotOf: (name: string) => string | undefined): AttrChange[] | Answer {
  const entries = body.UserAttrs;
  if (!Array.isArray(entries)) return fail(CODES.format, invalidFormat('UserAttrs'));
  const changes: AttrChange[] = [];
  for (const entry of entries as unknown[]) {
    if (!isPlainObject(entry) || typeof entry.To_Account !== 'string' || entry.To_Account === '') return fail(CODES.format, invalidFormat('To_Account'));
    const attrs = entry.Attrs;
    const slots: Array<[string, string | undefined]> = [];
    if (!remove) {
      if (!isPlainObject(attrs)) return fail(CODES.format, invalidFormat('Attrs'));
      for (const [name, value] of Object.entries(attrs)) {
        const slot = slotOf(name);
        if (slot === undefined) return fail(CODES.invalidAttr, `attribute ${name} is not an app attribute`);
        if (typeof value !== 'string' || byteLength(value) > MAX_ATTR_BYTES) return fail(CODES.invalidAttr, `invalid value for attribute ${name}`);
        slots.push([slot, value]);
      }
    } else {
      if (!Array.isArray(attrs)) return fail(CODES.format, invalidFormat('Attrs', 'an array of names'));
      for (const name of attrs) {
        const slot = typeof name === 'string' ? slotOf(name) : undefined;
        if (slot === undefined) return fail(CODES.invalidAttr, `attribute ${String(name)} is not an app attribute`);
        slots.push([slot, undefined]);
      }
    }
    changes.push({ account: entry.To_Account, slots });
  }
  return changes;
}

const sortedSlots = <T>(map: Map<string, T>): Array<[string, T]> => [...map].sort(([a], [b]) => Number(a) - Number(b));

/** The all_member_push attribute endpoints (API.md §2). */
export function ampAttrEndpoints(ctx: EmulatorContext): Endpoint[] {
  const { state } = ctx;

  const getAttrName: Handler = () => ok({ AttrNames: Object.fromEntries(sortedSlots(state.names)) });

  const setAttrName: Handler = (body) => {
    const names = body.AttrNames;
    if (!isPlainObject(names)) return fail(CODES.format, invalidFormat('AttrNames'));
    const next = new Map(state.names);
    for (const [slot, name] of Object.entries(names)) {
      if (!isSlot(slot)) return fail(CODES.invalidAttr, `invalid attribute slot ${slot}`);
      if (typeof name !== 'string' || byteLength(name) > MAX_ATTR_BYTES) return fail(CODES.invalidAttr, `invalid attribute name in slot ${slot}`);
      if (name === '') next.delete(slot);
      else next.set(slot, name);
    }
    const all = [...next.values()];
    if (new Set(all).size !== all.length) return fail(CODES.invalidAttr, 'duplicate attribute names');
    for (const slot of state.names.keys()) {
      if (!next.has(slot)) for (const values of state.users.values()) values.delete(slot);
    }
    state.names = next;
    ctx.changed();
    return ok();
  };

  const getAttr: Handler = (body) => {
    // Looser than accountList: an empty or non-string ID is answered as not imported, as it always was.
    const accounts = body.To_Account;
    if (!Array.isArray(accounts)) return fail(CODES.format, invalidFormat('To_Account'));
    const userAttrs: Array<{ To_Account: string; Attrs: Record<string, string> }> = [];
    const errorList: ErrorItem[] = [];
    for (const account of accounts as unknown[]) {
      const attrs = typeof account === 'string' ? state.attrsOf(account) : undefined;
      if (attrs) userAttrs.push({ To_Account: account as string, Attrs: attrs });
      else errorList.push(notImported(String(account)));
    }
    ctx.served(accounts.length, userAttrs.length);
    ctx.shuffle(userAttrs);
    return ok(errorList.length ? { UserAttrs: userAttrs, ErrorList: errorList } : { UserAttrs: userAttrs });
  };

  const setOrRemove =
    (remove: boolean): Handler =>
    (body) => {
      // Validate the whole request first: a bad entry rejects it all, nothing half-applied.
      const changes = attrChanges(body, remove, (name) => state.slotOf(name));
      if (!Array.isArray(changes)) return changes;
      for (const { account, slots } of changes) {
        let values = state.users.get(account);
        if (!values) {
          if (remove) continue;
          state.users.set(account, (values = new Map()));
        }
        for (const [slot, value] of slots) {
          if (value === undefined) values.delete(slot);
          else values.set(slot, value);
        }
      }
      ctx.served(changes.length, changes.length);
      ctx.changed();
      return ok();
    };

  const rest = { adjustable: true };
  return [
    row('all_member_push/im_get_attr_name', getAttrName, REST_CALLS_PER_SECOND, rest),
    row('all_member_push/im_set_attr_name', setAttrName, REST_CALLS_PER_SECOND, rest),
    row('all_member_push/im_get_attr', getAttr, REST_CALLS_PER_SECOND, { ...rest, accounts: accountLimit('To_Account', MAX_ACCOUNTS) }),
    row('all_member_push/im_set_attr', setOrRemove(false), REST_CALLS_PER_SECOND, { ...rest, accounts: accountLimit('UserAttrs', MAX_ACCOUNTS) }),
    row('all_member_push/im_remove_attr', setOrRemove(true), REST_CALLS_PER_SECOND, { ...rest, accounts: accountLimit('UserAttrs', MAX_ACCOUNTS) }),
  ];
}

/** The TIMPush attribute endpoints (PUSH-FAMILY.md §3, F5, F6, F9, F10, F11). */
export function timpushAttrEndpoints(ctx: EmulatorContext): Endpoint[] {
  const { tp, known, accountType, touched } = timpushAccounts(ctx);

  const getAttrName: Handler = () => {
    const names = sortedSlots(tp.names);
    return ok({ AttrNames: Object.fromEntries(names), AttrTypes: Object.fromEntries(names.map(([slot]) => [slot, tp.typeOfSlot(slot)])) });
  };

  const setAttrName: Handler = (body) => {
    const names = body.AttrNames;
    if (!isPlainObject(names)) return fail(CODES.format, invalidFormat('AttrNames'));
    const types = body.AttrTypes ?? {};
    if (!isPlainObject(types) || Object.values(types).some((t) => t !== 0 && t !== 1)) return fail(CODES.format, invalidFormat('AttrTypes', '0 (UserID) or 1 (RegistrationID)'));
    const next = new Map(tp.names);
    for (const [slot, name] of Object.entries(names)) {
      if (!isSlot(slot)) return fail(CODES.invalidAttr, `invalid attribute index:${slot}`);
      if (typeof name !== 'string' || byteLength(name) > MAX_ATTR_BYTES) return fail(CODES.invalidAttr, `invalid attribute name at index:${slot}`);
      if (name === '') next.delete(slot);
      else next.set(slot, name);
    }
    for (const [slot, name] of Object.entries(names)) {
      for (const [other, n] of next) {
        // F10: "attrName:city already exists at index:1"
        if (other !== slot && n === name) return fail(CODES.invalidAttr, `attrName:${name} already exists at index:${other}`);
      }
    }
    const nextTypes = new Map(tp.types);
    for (const [slot, type] of Object.entries(types) as Array<[string, AccountType]>) {
      if (!next.has(slot)) return fail(CODES.invalidAttr, `no attribute at index:${slot}`);
      // "does not support modification afterward": a slot that already has a name keeps its type.
      if (tp.names.has(slot) && tp.typeOfSlot(slot) !== type) return fail(CODES.invalidAttr, `account type in AttrTypes cannot be changed: index:${slot}`);
      if (type === 1) nextTypes.set(slot, 1);
    }
    const cleared = [...tp.names.keys()].filter((slot) => !next.has(slot));
    for (const slot of cleared) nextTypes.delete(slot);
    // A cleared slot drops its values (as in all_member_push), so that a later attribute in the
    // same slot does not inherit them. O(written accounts), on this rare admin call only.
    for (const slot of cleared) tp.clearSlot(slot);
    tp.names = next;
    tp.types = nextTypes;
    touched();
    return ok();
  };

  const getAttr: Handler = (body) => {
    const accounts = accountList(body, 'To_Account');
    if (!Array.isArray(accounts)) return accounts;
    const found: Array<{ To_Account: string; Attrs: Record<string, string> }> = [];
    const errors: ErrorItem[] = [];
    for (const account of accounts) {
      if (known(account)) found.push({ To_Account: account, Attrs: tp.attrsOf(account) });
      else errors.push(notImported(account));
    }
    ctx.served(accounts.length, found.length);
    return okWithErrors({ UserAttrs: found }, errors);
  };

  const setOrRemove =
    (remove: boolean): Handler =>
    (body) => {
      const changes = attrChanges(body, remove, (name) => tp.slotOf(name));
      if (!Array.isArray(changes)) return changes;
      const errors: ErrorItem[] = [];
      for (const { account, slots } of changes) {
        if (!known(account)) {
          errors.push(notImported(account));
          continue;
        }
        const type = accountType(account);
        if (!remove && slots.some(([slot]) => tp.typeOfSlot(slot) !== type)) {
          errors.push({ To_Account: account, ErrorCode: CODES.otherAccountType, ErrorInfo: 'A property can only be applicable to one account type' });
          continue;
        }
        const copy = { ...tp.rawAttrs(account) };
        for (const [slot, value] of slots) {
          if (value === undefined) delete copy[slot];
          else copy[slot] = value;
        }
        tp.setRawAttrs(account, copy);
      }
      ctx.served(changes.length, changes.length - errors.length);
      touched();
      return okWithErrors({}, errors);
    };

  return [
    row('timpush/get_attr_name', getAttrName, REST_CALLS_PER_SECOND, { adjustable: true }),
    row('timpush/set_attr_name', setAttrName, REST_CALLS_PER_SECOND, { adjustable: true }),
    row('timpush/get_attr', getAttr, REST_CALLS_PER_SECOND, { adjustable: true, accounts: accountLimit('To_Account', MAX_ACCOUNTS) }),
    row('timpush/set_attr', setOrRemove(false), REST_CALLS_PER_SECOND, { adjustable: true, accounts: accountLimit('UserAttrs', MAX_ACCOUNTS) }),
    row('timpush/remove_attr', setOrRemove(true), REST_CALLS_PER_SECOND, { adjustable: true, accounts: accountLimit('UserAttrs', MAX_ACCOUNTS) }),
  ];
}
