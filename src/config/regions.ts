/**
 * Tencent Cloud Chat data centers and their REST API domains.
 * Source: ../shared/reference/API.md section 1 (Tencent docs 1047/34620, 269/1519), and
 * PUSH-FAMILY.md "Domains (confirmed), Riyadh added" for ksa.
 * The list has changed over the years, so `endpoint` always overrides it.
 */

export type RegionId = 'cn' | 'sgp' | 'kr' | 'jpn' | 'ger' | 'usa' | 'idn' | 'ind' | 'ksa';

export interface Region {
  id: RegionId;
  name: string;
  /** Long aliases accepted in config and flags. */
  aliases: readonly string[];
  primary: string;
  /** Used when the primary domain fails to resolve or connect; undefined where none is documented. */
  backup: string | undefined;
}

export const REGIONS: readonly Region[] = [
  { id: 'cn', name: 'China', aliases: ['china'], primary: 'console.tim.qq.com', backup: 'adminapi.my-imcloud.com' },
  { id: 'sgp', name: 'Singapore', aliases: ['singapore'], primary: 'adminapisgp.im.qcloud.com', backup: 'adminapisgp.my-imcloud.com' },
  { id: 'kr', name: 'Seoul', aliases: ['seoul'], primary: 'adminapikr.im.qcloud.com', backup: 'adminapikr.my-imcloud.com' },
  { id: 'jpn', name: 'Tokyo', aliases: ['tokyo'], primary: 'adminapijpn.im.qcloud.com', backup: 'adminapijpn.my-imcloud.com' },
  { id: 'ger', name: 'Frankfurt', aliases: ['frankfurt'], primary: 'adminapiger.im.qcloud.com', backup: 'adminapiger.my-imcloud.com' },
  { id: 'usa', name: 'Silicon Valley', aliases: ['siliconvalley', 'silicon-valley'], primary: 'adminapiusa.im.qcloud.com', backup: 'adminapiusa.my-imcloud.com' },
  { id: 'idn', name: 'Jakarta', aliases: ['jakarta'], primary: 'adminapiidn.im.qcloud.com', backup: 'adminapiidn.my-imcloud.com' },
  { id: 'ind', name: 'Mumbai', aliases: ['mumbai'], primary: 'adminapiind.im.qcloud.com', backup: 'adminapiind.my-imcloud.com' },
  // Riyadh: trtc.io/document/80440, CN/269/130281. No official page names a backup domain (only
  // third-party allow lists do), so none is tried.
  { id: 'ksa', name: 'Riyadh', aliases: ['riyadh'], primary: 'adminapiksa.im.qcloud.com', backup: undefined },
];

/** Every accepted spelling, for help text and completion. */
export const REGION_IDS: readonly RegionId[] = REGIONS.map((r) => r.id);

/** Finds a region by id or alias, case-insensitively. */
export function findRegion(text: string): Region | undefined {
  const key = text.trim().toLowerCase();
  return REGIONS.find((r) => r.id === key || r.aliases.includes(key));
}

/** "cn (China), sgp (Singapore), …" for error messages. */
export function describeRegions(): string {
  return REGIONS.map((r) => `${r.id} (${r.name})`).join(', ');
}
