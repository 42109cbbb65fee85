/**
 * The recorded responses of PUSH-FAMILY.md section 7, as the docs print them (their `//`
 * comments included, on their own lines as in the docs' multi-line JSON), keyed by name.
 * `served` strips the comments: a real server sends strict JSON; everything else is verbatim.
 */

/** Removes the docs' `//` comments (to the end of their line). */
export function served(docText: string): string {
  return docText.replace(/\s*\/\/[^\n]*/g, '');
}

export const FIXTURES = {
  /** F1 im_get_attr (EN/37169). */
  F1: `{"ActionStatus": "OK","ErrorInfo": "","ErrorCode": 0,"UserAttrs": [{"To_Account": "Zhang Xiaohong","Attrs": {"sex" : "Female","city": "New York"}},{"To_Account": "abc","Attrs": {}},{"To_Account": "Chen Xiaoming","Attrs": {"sex": "M","city": "Shenzhen"}}]}`,
  /** F2 im_get_attr_name (CN/583/45936). */
  F2: `{"ActionStatus": "OK","ErrorInfo": "","ErrorCode": 0,"AttrNames": {"0": "sex","1": "city","2": "会员等级"}}`,
  /** F3 im_get_tag (CN/1231/45940). */
  F3: `{"ActionStatus": "OK","ErrorInfo": "","ErrorCode": 0,"UserTags": [{"To_Account": "xiaojun012","Tags": ["a", "b"]},{"To_Account": "xiaojun013","Tags": ["a", "c"]}]}`,
  /** F5 timpush get_attr (trtc.io/document/60564); the request was ["Mary","xiaoming","xiaohua"]. */
  F5: `{    "ActionStatus": "OK",    "ErrorInfo": "",    "ErrorCode": 0,    "UserAttrs": [        {            "To_Account": "xiaoming",            "Attrs": {                "sex": "male",                "city": "ShenZhen"            }        },        {            "To_Account": "xiaohua",            "Attrs": {}        }    ],     "ErrorList": [        {            "ErrorCode": 70107, // account does not exist
            "To_Account": "Mary"        }    ]}`,
  /** F6 timpush set_attr partial (trtc.io/document/60565). */
  F6: `{    "ActionStatus": "OK",    "ErrorInfo": "",    "ErrorCode": 0,    "ErrorList": [        {            "ErrorCode": 90035, // A property can only be applicable to one account type
            "To_Account": "379C2F0D-290D-47AE-94D1-919058C39C77"        }    ]}`,
  /** F7 timpush add_tag partial (trtc.io/document/67821): F6's shape. */
  F7: `{    "ActionStatus": "OK",    "ErrorInfo": "",    "ErrorCode": 0,    "ErrorList": [        {            "ErrorCode": 90035, // A tag can only be applicable to one account type.
            "To_Account": "379C2F0D-290D-47AE-94D1-919058C39C77"        }    ]}`,
  /** F8 timpush get_tag (trtc.io/document/60567). */
  F8: `{    "ActionStatus": "OK",    "ErrorInfo": "",    "ErrorCode": 0,    "UserTags": [        {            "To_Account": "xiaoming",            "Tags": ["GoldMember", "WeekPassUser"]        },        {            "To_Account": "xiaohong",            "Tags": ["PlatinumMember", "MonthPassUser"]        }    ],    "ErrorList": [        {            "ErrorCode": 70107,            "To_Account": "Mary"        }    ]}`,
  /** F9 timpush remove_attr partial. */
  F9_remove_attr: `{    "ActionStatus": "OK",    "ErrorInfo": "",    "ErrorCode": 0,    "ErrorList": [        {            "ErrorCode": 70107,            "To_Account": "Mary"        }    ]}`,
  /** F9 timpush remove_tag and clear_all_tags partial (they use "xiaohong"). */
  F9_tags: `{    "ActionStatus": "OK",    "ErrorInfo": "",    "ErrorCode": 0,    "ErrorList": [        {            "ErrorCode": 70107,            "To_Account": "xiaohong"        }    ]}`,
  /** F10 timpush set_attr_name FAIL (trtc.io/document/60563). */
  F10: `{    "ActionStatus": "FAIL",    "ErrorInfo": "attrName:city already exists at index:1",    "ErrorCode": 90033}`,
  /** F11 timpush get_attr_name with AttrTypes (EN/67815); the doc's comment is cut off with "…". */
  F11: `{"ActionStatus": "OK","ErrorInfo": "","ErrorCode": 0,"AttrNames": {"0": "sex","1": "city","2": "country"},"AttrTypes": {"0": 0,"1": 0,"2": 1 // Number key 2 corresponds to the attribute "country", which can only be set by account type 1 …
}}`,
  /** F14's loose envelope (EN/71894): "ErrorInfo": "sucess" on success, ActionStatus before ErrorCode. */
  F14_envelope: `{"ActionStatus": "OK","ErrorCode": 0,"ErrorInfo": "sucess"`,
  /** F16 get_sched_task (CN/269/130280): a pending task ("From_Account" an integer, as the doc has it). */
  F16: `{"ActionStatus": "OK","ErrorInfo": "","ErrorCode": 0,"TaskInfo": {"TaskID": 1234567890,"Sdkappid": 88888888,"CreateAt": "2025-05-20 08:30:00","Type": "All","SchedAt": "2025-06-01 10:00:00","Content": {"From_Account": 12345,"MsgRandom": 123456,"OfflinePushInfo": {"Title": "推送标题","Desc": "推送内容描述"}},"Title": "推送标题","Desc": "推送内容描述","Status": "pending","DispatchSuccess": 0,"DispatchErr": "","PushTaskID": ""}}`,
  /** C2 delete_sched_task (trtc.io/document/78841): refused while the task dispatches, and done. */
  C2_fail: `{"ActionStatus": "FAIL","ErrorInfo": "delete failed: task dispatching","ErrorCode": 90107,"TaskID": 0}`,
  C2_ok: `{"ActionStatus": "OK","ErrorInfo": "","ErrorCode": 0,"TaskID": 1234567890}`,
  /** C3 list_sched_task (CN/269/130281), as the doc prints it: cut off. */
  C3: `{"ActionStatus": "OK","ErrorInfo": "","ErrorCode": 0,"Total": 2,"Tasks": [{"TaskID": 1234567890,"Sdkappid":`,
  /** F14 with C6's TaskId (trtc.io/zh/document/80441): a TaskId may hold "@". The doc's TaskId is cut off after "3dbc55". */
  C6_statistics: `{"ActionStatus": "OK","ErrorCode": 0,"ErrorInfo": "sucess","Results": [{"TaskID": "wbat@1_6943e4b7_669462cf_2000012099531ab_4bfee607_3dbc55","TotalCount": 2670,"SentCount": 2213,"DeliveredCount": 532,"ClickCount": 206}]}`,
  /** F14's first task (EN/71894), alone. */
  F14_first: `{"ActionStatus": "OK","ErrorCode": 0,"ErrorInfo": "sucess","Results": [{"TaskID": "xxx-yyy-zzz","TotalCount": 2670,"SentCount": 2213,"DeliveredCount": 532,"ClickCount": 206,"PlatformStatistics": [{"EventType":1,"PushPlatform": 1,"TotalCount": 532,"SentCount": 391,"DeliveredCount": 0,"ClickCount": 27}]}]}`,
  /** F15 (EN/71895): the part the doc quotes, closed after it (the doc cuts it off there). */
  F15_closed: `{"ActionStatus": "OK","ErrorCode": 0,"ErrorInfo": "sucess","Results": [{"TaskID": "xxx-yyy-zzz","ReadyToSendLoss": [{"ErrCode": "-1","ErrCount": 167,"ErrInfo": "Certificate id not set"},{"ErrCode": "-2","ErrCount": 125,"ErrInfo": "token not uploaded"}],"PostSendDeliveredLoss": [{"ErrCode": "1","ErrCount": 217,"ErrInfo": "regid_invalid"},{"ErrCode": "410","ErrCount": 35,"ErrInfo": "Unregistered"}]}]}`,
  /** A trace refused in the documented style ("Invalid format of <Field>", R1/F12). */
  TRACE_REFUSED: `{"ActionStatus": "FAIL","ErrorCode": 90001,"ErrorInfo": "Invalid format of UserID"}`,
  /** R3 (github.com/hedeqiang/IM/issues/20): a success without ActionStatus, as JSON. */
  R3: `{"ErrorCode": 0, "ErrorInfo": ""}`,
} as const;
