/**
 * The API families as tables of operations over the same client and runner. Which one a run
 * uses is a setting (`api` in the config, IMADMIN_API, --api), all_member_push by default.
 *
 * - `all_member_push` (API.md section 2, PUSH-FAMILY.md section 1): the attribute API this tool
 *   was made for, `v4/all_member_push/im_*`.
 * - `timpush` (PUSH-FAMILY.md section 3): the same operations under `v4/timpush/*`, as Tencent's
 *   current "All/Tagged Push" pages describe them, with per-account `ErrorList` answers.
 *
 * A command asks for an operation by name (`operationFor(family, 'getAttrs')`); a family that
 * lacks it is a clear configuration error, never a request to a path that does not exist.
 */
import { ConfigError } from '../errors.js';
import { attrOperations, type AttrOperations } from './attrs.js';
import { deliveryOperations, type DeliveryOperations } from './delivery.js';
import { API_FAMILIES, type ApiFamily } from './operation.js';
import { pushOperations, type PushOperations } from './push.js';
import { tagOperations, type TagOperations } from './tags.js';

/** Every operation a family may offer, by name. */
export type FamilyOperations = AttrOperations & TagOperations & PushOperations & DeliveryOperations;
export type OperationName = keyof FamilyOperations;

/** URL prefix of each family (PUSH-FAMILY.md sections 1 and 3). */
export const FAMILY_PREFIX: Readonly<Record<ApiFamily, string>> = {
  all_member_push: 'v4/all_member_push',
  timpush: 'v4/timpush',
};

const allMemberPush = FAMILY_PREFIX.all_member_push;
const timpush = FAMILY_PREFIX.timpush;

/** The tables. A family lists only the operations it has. */
export const FAMILIES: Readonly<Record<ApiFamily, Partial<FamilyOperations>>> = {
  // API.md section 2, PUSH-FAMILY.md section 1.
  all_member_push: {
    ...attrOperations('all_member_push', {
      getAttrNames: `${allMemberPush}/im_get_attr_name`,
      setAttrNames: `${allMemberPush}/im_set_attr_name`,
      getAttrs: `${allMemberPush}/im_get_attr`,
      setAttrs: `${allMemberPush}/im_set_attr`,
      removeAttrs: `${allMemberPush}/im_remove_attr`,
    }),
    ...tagOperations(
      'all_member_push',
      {
        getTags: `${allMemberPush}/im_get_tag`,
        addTags: `${allMemberPush}/im_add_tag`,
        removeTags: `${allMemberPush}/im_remove_tag`,
        clearTags: `${allMemberPush}/im_remove_all_tags`,
      },
      { replace: false },
    ),
    // PUSH-FAMILY.md §2: im_push; no revoke or report endpoint in this family. account_check
    // (§5, v4/im_open_login_svc/account_check) is outside both prefixes and in both tables.
    ...pushOperations('all_member_push', { push: `${allMemberPush}/im_push` }),
  },
  // PUSH-FAMILY.md section 3: the same operations, per-account ErrorList, AttrTypes, Replace.
  timpush: {
    ...attrOperations(
      'timpush',
      {
        getAttrNames: `${timpush}/get_attr_name`,
        setAttrNames: `${timpush}/set_attr_name`,
        getAttrs: `${timpush}/get_attr`,
        setAttrs: `${timpush}/set_attr`,
        removeAttrs: `${timpush}/remove_attr`,
      },
      { types: true },
    ),
    ...tagOperations(
      'timpush',
      {
        getTags: `${timpush}/get_tag`,
        addTags: `${timpush}/add_tag`,
        removeTags: `${timpush}/remove_tag`,
        clearTags: `${timpush}/clear_all_tags`,
      },
      { replace: true },
    ),
    ...pushOperations('timpush', {
      push: `${timpush}/push`,
      revoke: `${timpush}/revoke`,
      statistics: `${timpush}/all_member_push_statistics`,
      listPush: `${timpush}/batch`,
    }),
    // DELIVERY.md §2 and §3: scheduled pushes and per-task diagnostics, TIMPush only.
    ...deliveryOperations('timpush', {
      add: `${timpush}/add_sched_task`,
      get: `${timpush}/get_sched_task`,
      list: `${timpush}/list_sched_task`,
      modify: `${timpush}/modify_sched_task`,
      delete: `${timpush}/delete_sched_task`,
      loss: `${timpush}/all_member_push_loss`,
      trace: `${timpush}/all_member_push_trace`,
    }),
  },
};

/** The operation `name` of `family`, or a ConfigError saying the family has no such endpoint. */
export function operationFor<N extends OperationName>(family: ApiFamily, name: N): FamilyOperations[N] {
  const op = FAMILIES[family][name];
  if (op === undefined) {
    const others = API_FAMILIES.filter((f) => f !== family && FAMILIES[f][name] !== undefined);
    throw new ConfigError(`the ${family} API family has no ${name} operation in im-attrs yet`, {
      hint: others.length ? `use --api ${others[0]} (or \`api: ${others[0]}\` in the config)` : undefined,
    });
  }
  return op as FamilyOperations[N];
}
