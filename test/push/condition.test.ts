import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONDITION_READINGS,
  NULL_FIELDS_NOTE,
  matches,
  rekeyCondition,
  validateCondition,
  validatePushRequest,
  type Condition,
  type ConditionProblem,
  type PushFamily,
} from '../../src/push/condition.js';

const NAMES = ['sex', 'city', 'level'];
const TAG_51 = 'x'.repeat(51);
const TAG_50 = 'x'.repeat(50);
const ELEVEN = Array.from({ length: 11 }, (_, i) => `t${i}`);
const TEN = ELEVEN.slice(0, 10);

describe('validateCondition', () => {
  const cases: Array<[string, unknown, PushFamily, Array<ConditionProblem['code']>]> = [
    ['no condition', undefined, 'all_member_push', []],
    ['an empty condition', {}, 'all_member_push', []],
    ['TagsOr and TagsAnd together', { TagsOr: ['a'], TagsAnd: ['b'] }, 'all_member_push', []],
    ['AttrsOr and AttrsAnd together', { AttrsOr: { sex: 'F' }, AttrsAnd: { city: 'Paris' } }, 'all_member_push', []],
    ['a condition that is not an object', ['a'], 'all_member_push', [90001]],
    ['a condition that is a string', 'vip', 'timpush', [90001]],
    ['TagsOr that is not an array', { TagsOr: 'a' }, 'all_member_push', [90001]],
    ['TagsAnd with a number', { TagsAnd: ['a', 1] }, 'all_member_push', [90001]],
    ['AttrsAnd with a number value', { AttrsAnd: { level: 3 } }, 'all_member_push', [90001]],
    ['AttrsOr that is an array', { AttrsOr: ['sex'] }, 'timpush', [90001]],
    ['an unknown field', { Tags: ['a'] }, 'all_member_push', [90001]],
    ['TagsNot on all_member_push', { TagsNot: ['a'] }, 'all_member_push', [90001]],
    ['TagsNot on timpush', { TagsNot: ['a'] }, 'timpush', []],
    ['tags and attributes mixed', { TagsOr: ['a'], AttrsOr: { sex: 'F' } }, 'all_member_push', [90039]],
    ['TagsNot and attributes mixed', { TagsNot: ['a'], AttrsAnd: { sex: 'F' } }, 'timpush', [90039]],
    ['empty tag list with attributes is not a mix', { TagsOr: [], AttrsAnd: { sex: 'F' } }, 'all_member_push', []],
    ['10 tags in TagsOr', { TagsOr: TEN }, 'all_member_push', []],
    ['11 tags in TagsOr', { TagsOr: ELEVEN }, 'all_member_push', [90032]],
    ['11 tags in TagsAnd', { TagsAnd: ELEVEN }, 'timpush', [90032]],
    ['11 tags in TagsNot', { TagsNot: ELEVEN }, 'timpush', [90032]],
    ['10 + 10 tags over two lists', { TagsOr: TEN, TagsAnd: ELEVEN.slice(1).map((t) => `${t}b`) }, 'all_member_push', []],
    ['a 50-byte tag', { TagsOr: [TAG_50] }, 'all_member_push', []],
    ['a 51-byte tag', { TagsOr: [TAG_51] }, 'all_member_push', [90020]],
    ['a 51-byte tag counted in UTF-8 bytes', { TagsAnd: ['é'.repeat(26)] }, 'timpush', [90020]],
    ['an empty tag', { TagsAnd: [''] }, 'all_member_push', [90040]],
    ['the same tag in TagsOr and TagsAnd', { TagsOr: ['a', 'b'], TagsAnd: ['b'] }, 'all_member_push', [90022]],
    ['the same tag in TagsNot and TagsOr', { TagsOr: ['a'], TagsNot: ['a'] }, 'timpush', [90022]],
    ['an unknown attribute name', { AttrsOr: { colour: 'red' } }, 'all_member_push', [90033]],
    ['an unknown attribute in AttrsAnd on timpush', { AttrsAnd: { sex: 'F', vip: 'yes' } }, 'timpush', [90033]],
    ['several problems at once, in order', { TagsOr: [...ELEVEN, ''], TagsAnd: ['t1'], AttrsOr: { nope: 'x' } }, 'all_member_push', [90039, 90032, 90040, 90022, 90033]],
  ];
  for (const [name, condition, family, codes] of cases) {
    it(`${name} (${family}) → [${codes.join(', ')}]`, () => {
      assert.deepEqual(
        validateCondition(condition, family, NAMES).map((p) => p.code),
        codes,
      );
    });
  }

  it('does not check attribute names when none are given', () => {
    assert.deepEqual(validateCondition({ AttrsOr: { colour: 'red' } }, 'timpush'), []);
  });

  it('says what is wrong in its messages', () => {
    assert.deepEqual(validateCondition({ TagsOr: ['a'], AttrsOr: { sex: 'F' }, TagsNot: ['b'] }, 'all_member_push', NAMES), [
      { code: 90001, message: 'Invalid format of Condition: unknown field TagsNot (TagsNot is TIMPush only)' },
      { code: 90039, message: 'Message push by attribute and message push by tag are mutually exclusive' },
    ]);
  });
});

describe('validatePushRequest', () => {
  const body = { MsgRandom: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }] };
  const cases: Array<[string, Record<string, unknown>, PushFamily, number[]]> = [
    ['a minimal all_member_push request', body, 'all_member_push', []],
    ['a minimal timpush request (MsgBody optional)', { MsgRandom: 0 }, 'timpush', []],
    ['MsgRandom missing', { MsgBody: body.MsgBody }, 'all_member_push', [90001]],
    ['MsgRandom a string', { ...body, MsgRandom: '1' }, 'all_member_push', [90001]],
    ['MsgRandom negative', { MsgRandom: -1 }, 'timpush', [90001]],
    ['MsgRandom over 32 bits', { MsgRandom: 4294967296 }, 'timpush', [90001]],
    ['MsgRandom a fraction', { MsgRandom: 1.5 }, 'timpush', [90001]],
    ['MsgLifeTime 7 days', { ...body, MsgLifeTime: 604800 }, 'all_member_push', []],
    ['MsgLifeTime 7 days + 1 s', { ...body, MsgLifeTime: 604801 }, 'all_member_push', [90026]],
    ['MsgLifeTime negative', { MsgRandom: 1, MsgLifeTime: -1 }, 'timpush', [90026]],
    ['MsgLifeTime a fraction', { ...body, MsgLifeTime: 1.5 }, 'all_member_push', [90044]],
    ['MsgLifeTime a string', { MsgRandom: 1, MsgLifeTime: '60' }, 'timpush', [90044]],
    ['MsgBody missing on all_member_push', { MsgRandom: 1 }, 'all_member_push', [90002]],
    ['MsgBody empty', { MsgRandom: 1, MsgBody: [] }, 'all_member_push', [90002]],
    ['MsgBody element without MsgType', { MsgRandom: 1, MsgBody: [{ Text: 'x' }] }, 'all_member_push', [90002]],
    ['From_Account a number', { ...body, From_Account: 5 }, 'all_member_push', [90001]],
    ['a bad condition comes last', { MsgRandom: 'x', Condition: { TagsOr: [''] } }, 'timpush', [90001, 90040]],
  ];
  for (const [name, request, family, codes] of cases) {
    it(`${name} (${family}) → [${codes.join(', ')}]`, () => {
      assert.deepEqual(
        validatePushRequest(request, family, NAMES).map((p) => p.code),
        codes,
      );
    });
  }
});

describe('matches', () => {
  const alice = { attrs: { sex: 'F', city: 'Paris' }, tags: ['a', 'b'] };
  const bob = { attrs: { sex: 'M', city: 'Shenzhen', level: 'gold' }, tags: ['b', 'c'] };
  const carol = { attrs: {}, tags: [] as string[] };
  const dave = { attrs: { sex: 'F', city: 'paris' }, tags: ['c', 'd'] };
  const people = { alice, bob, carol, dave };
  const cases: Array<[string, Condition | undefined, string[]]> = [
    ['no condition', undefined, ['alice', 'bob', 'carol', 'dave']],
    ['{}', {}, ['alice', 'bob', 'carol', 'dave']],
    ['TagsOr', { TagsOr: ['a', 'c'] }, ['alice', 'bob', 'dave']],
    ['TagsAnd', { TagsAnd: ['b', 'c'] }, ['bob']],
    ['TagsAnd + TagsOr: both must hold', { TagsAnd: ['b'], TagsOr: ['a', 'd'] }, ['alice']],
    ['TagsNot excludes anyone with any listed tag', { TagsNot: ['a', 'd'] }, ['bob', 'carol']],
    ['TagsOr + TagsNot (the EN/60561 example)', { TagsOr: ['b', 'c'], TagsNot: ['a'] }, ['bob', 'dave']],
    ['empty TagsOr adds no constraint', { TagsOr: [] }, ['alice', 'bob', 'carol', 'dave']],
    ['AttrsAnd', { AttrsAnd: { sex: 'F', city: 'Paris' } }, ['alice']],
    ['AttrsAnd is case-sensitive', { AttrsAnd: { city: 'paris' } }, ['dave']],
    ['AttrsOr', { AttrsOr: { city: 'Paris', level: 'gold' } }, ['alice', 'bob']],
    ['AttrsAnd + AttrsOr: both must hold', { AttrsAnd: { sex: 'F' }, AttrsOr: { city: 'paris', level: 'gold' } }, ['dave']],
    ['an attribute nobody has', { AttrsOr: { level: 'silver' } }, []],
    ['empty AttrsOr adds no constraint', { AttrsOr: {} }, ['alice', 'bob', 'carol', 'dave']],
    ['a tag nobody has', { TagsAnd: ['zzz'] }, []],
  ];
  for (const [name, condition, expected] of cases) {
    it(`${name} → ${expected.join(', ') || 'nobody'}`, () => {
      const got = Object.entries(people)
        .filter(([, p]) => matches(condition, p.attrs, p.tags))
        .map(([n]) => n);
      assert.deepEqual(got, expected);
    });
  }

  it('reads attributes from a Map and tags from a Set the same way', () => {
    for (const [, condition, expected] of cases) {
      const got = Object.entries(people)
        .filter(([, p]) => matches(condition, new Map(Object.entries(p.attrs)), new Set(p.tags)))
        .map(([n]) => n);
      assert.deepEqual(got, expected);
    }
  });

  it('does not take inherited properties for attributes', () => {
    assert.equal(matches({ AttrsAnd: { toString: 'x' } }, {}, []), false);
  });

  it('matches a rekeyed condition against a store keyed by slot', () => {
    const slots: Record<string, string> = { sex: '0', city: '1' };
    const rekeyed = rekeyCondition({ AttrsAnd: { sex: 'F' }, AttrsOr: { city: 'Paris', gone: 'x' } }, (n) => slots[n]);
    assert.deepEqual(rekeyed, { AttrsAnd: { '0': 'F' }, AttrsOr: { '1': 'Paris', '\u0000gone': 'x' } });
    assert.equal(matches(rekeyed, new Map([['0', 'F'], ['1', 'Paris']]), []), true);
    assert.equal(matches(rekeyed, new Map([['0', 'F'], ['1', 'Tokyo']]), []), false);
  });

  it('documents one reading per open question', () => {
    assert.equal(CONDITION_READINGS.length, 7);
  });
});

describe('a JSON null is an absent field (NULL_FIELDS_NOTE)', () => {
  const cases: Array<[string, unknown, PushFamily]> = [
    ['a null Condition', null, 'timpush'],
    ['TagsAnd null beside TagsOr (a Go struct without omitempty)', { TagsAnd: null, TagsOr: ['vip'], TagsNot: null, AttrsOr: null, AttrsAnd: null }, 'timpush'],
    ['TagsNot null on all_member_push, which has no TagsNot', { TagsOr: ['vip'], TagsNot: null }, 'all_member_push'],
    ['every field null', { TagsOr: null, TagsAnd: null, AttrsOr: null, AttrsAnd: null }, 'all_member_push'],
  ];
  for (const [name, condition, family] of cases) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(validateCondition(condition, family, NAMES), []);
    });
  }

  it('matches as if the null fields were not there', () => {
    const condition = { TagsAnd: null, TagsOr: ['vip'] } as unknown as Condition;
    assert.equal(matches(condition, {}, ['vip']), true);
    assert.equal(matches(condition, {}, ['beta']), false);
  });

  it('validatePushRequest reads null MsgLifeTime and From_Account as absent, but not a null MsgRandom', () => {
    assert.deepEqual(validatePushRequest({ MsgRandom: 1, MsgLifeTime: null, From_Account: null, Condition: null }, 'timpush'), []);
    assert.deepEqual(validatePushRequest({ MsgRandom: null }, 'timpush'), [{ code: 90001, message: 'Invalid format of MsgRandom' }]);
  });

  it('says so in one sentence for --help', () => {
    assert.equal(NULL_FIELDS_NOTE, 'A JSON null in the request (a Condition field, DataId) is read as an absent field.');
  });
});
