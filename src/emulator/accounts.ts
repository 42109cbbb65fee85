/** `im_open_login_svc/account_check` (PUSH-FAMILY.md §5, F19; CN/269/38417): ≤100 items, 100/s. */
import { fail, invalidFormat, isPlainObject, ok } from './answer.js';
import { row, type EmulatorContext, type Endpoint, type Handler } from './context.js';
import { CODES, MAX_ACCOUNTS, REST_CALLS_PER_SECOND } from './limits.js';

/** The account endpoints. */
export function accountEndpoints(ctx: EmulatorContext): Endpoint[] {
  const accountCheck: Handler = (body) => {
    const items = body.CheckItem;
    if (!Array.isArray(items) || items.some((i) => !isPlainObject(i) || typeof i.UserID !== 'string' || i.UserID === '')) return fail(CODES.accountCheckInvalid, invalidFormat('CheckItem'));
    const ResultItem = (items as Array<{ UserID: string }>).map(({ UserID }) => ({
      UserID,
      ResultCode: 0,
      ResultInfo: '',
      AccountStatus: ctx.state.isImported(UserID) ? 'Imported' : 'NotImported',
    }));
    ctx.served(items.length, items.length);
    return ok({ ResultItem });
  };
  return [
    row('im_open_login_svc/account_check', accountCheck, REST_CALLS_PER_SECOND, {
      adjustable: true,
      accounts: { field: 'CheckItem', max: MAX_ACCOUNTS, tooMany: (n) => fail(CODES.accountCheckInvalid, `too many accounts: ${n} > ${MAX_ACCOUNTS}`) },
    }),
  ];
}
