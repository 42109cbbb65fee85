/**
 * Forward proxies from the environment: `https_proxy`/`HTTPS_PROXY` for https:// targets, with
 * `no_proxy`/`NO_PROXY` exceptions, as curl reads them (the lower-case name wins when both are
 * set). The environment is handed in (runtime deps.env), never read from `process`.
 *
 * Plain http:// targets are never proxied: im-attrs allows them only on loopback (the emulator),
 * and a UserSig must not travel in clear text through a third machine.
 *
 * The tunnel is an HTTP CONNECT through hpagent, which keeps the tunnelled TLS sockets alive
 * and pooled like a plain https.Agent does: one CONNECT serves many requests.
 */
import type https from 'node:https';
import { ConfigError } from '../errors.js';

/** The environment variables read here, lower-case first. */
export const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY'] as const;
export const NO_PROXY_VARIABLES = ['no_proxy', 'NO_PROXY'] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** One `NO_PROXY` entry: a host (or domain suffix) and an optional port. */
interface NoProxyRule {
  /** Lower case, without a leading "*." or "."; "*" matches every host. */
  host: string;
  /** True for ".example.com" and "*.example.com": subdomains only, not example.com itself. */
  subdomainsOnly: boolean;
  port: number | undefined;
}

export interface ProxySettings {
  /** The proxy URL as given, credentials included: only ever hand it to the agent. */
  url: URL;
  /** Which variable it came from, for messages. */
  variable: string;
  noProxy: NoProxyRule[];
}

/** The first non-empty value among the variables, with its name. */
function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * The proxy the environment asks for, or undefined for none. Throws ConfigError for a value that
 * is not an http:// or https:// proxy URL (a bare "host:port" means http://host:port, as in curl).
 */
export function proxySettings(env: Env): ProxySettings | undefined {
  const found = firstSet(env, PROXY_VARIABLES);
  if (!found) return undefined;
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(found.value) ? found.value : `http://${found.value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${found.name} is not a proxy URL`, {
      hint: `use http://host:port (or http://user:password@host:port), or unset ${found.name}`,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${found.name} uses ${url.protocol.replace(/:$/, '')}://, which im-attrs does not support`, {
      hint: 'use an HTTP proxy (http:// or https://) that supports CONNECT',
    });
  }
  const noProxy = parseNoProxy(firstSet(env, NO_PROXY_VARIABLES)?.value ?? '');
  return { url, variable: found.name, noProxy };
}

/** `NO_PROXY`: entries separated by commas or spaces; "host", ".domain", "*.domain", "host:port", "*". */
function parseNoProxy(text: string): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    let port: number | undefined;
    const withPort = /^(.*[^:]):(\d+)$/.exec(entry);
    // "[::1]:443" and "host:443" carry a port; a bare IPv6 address ("::1", "fe80::1") does not.
    const bareIpv6 = !entry.startsWith('[') && entry.split(':').length > 2;
    if (withPort && !bareIpv6) {
      entry = withPort[1]!;
      port = Number(withPort[2]);
    }
    entry = entry.replace(/^\[(.*)\]$/, '$1');
    const subdomainsOnly = entry.startsWith('*.') || entry.startsWith('.');
    rules.push({ host: entry.replace(/^\*?\./, ''), subdomainsOnly, port });
  }
  return rules;
}

/** Whether a request to `target` goes through the proxy. */
export function usesProxy(settings: ProxySettings | undefined, target: URL): boolean {
  if (!settings || target.protocol !== 'https:') return false;
  const host = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port || 443);
  for (const rule of settings.noProxy) {
    if (rule.port !== undefined && rule.port !== port) continue;
    if (rule.host === '*') return false;
    if (host.endsWith(`.${rule.host}`)) return false;
    if (!rule.subdomainsOnly && host === rule.host) return false;
  }
  return true;
}

/** The proxy as it may be printed: scheme, host and port, never the credentials. */
export function describeProxy(settings: ProxySettings): string {
  return `${settings.url.protocol}//${settings.url.host}`;
}

/**
 * A keep-alive https.Agent that tunnels through the proxy. `ca` (from --ca) replaces the trusted
 * CAs for the proxy's own TLS as well, when the proxy is an https:// one. Certificates are
 * always verified, whatever NODE_TLS_REJECT_UNAUTHORIZED says.
 */
export async function createProxyAgent(settings: ProxySettings, options: https.AgentOptions): Promise<https.Agent> {
  // Loaded on first use, like the rest of the network stack: `--help` need not pay for it.
  const { HttpsProxyAgent } = await import('hpagent');
  return new HttpsProxyAgent({
    ...options,
    rejectUnauthorized: true,
    proxy: settings.url,
    proxyRequestOptions: {
      rejectUnauthorized: true,
      ...(options.ca === undefined ? {} : { ca: [String(options.ca)] }),
    },
  });
}
