// The REST client. Every URL is relative to the API root, found from the
// page's own location (the console lives at <root>/ui/), so the console
// works through any worker of a cluster and behind a path prefix: the
// worker forwards what needs the leader.
//
// Authentication: the worker answers 401 when it wants credentials. The
// first 401 opens the credentials prompt (one at a time, whatever number of
// requests are waiting), then the request is sent again with them.
// Requests go with `credentials: "omit"` so the browser never shows its own
// Basic dialog nor sends anything it cached itself.

import type { ConfigDefinition, ConfigInfos, ConnectorInfo, ConnectorStatus, ExpandedConnectors, Offsets, PluginSummary, PluginVersion } from "./types.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An `Authorization` header value and who it is, for the header bar. */
export interface Credentials {
  header: string;
  label: string;
}

const STORAGE_KEY = "wasmconnect.console.credentials";

/** Asks the user for credentials; `null` when they decline. */
export type CredentialPrompt = (reason: string) => Promise<{ credentials: Credentials; keep: boolean } | null>;

let credentials: Credentials | null = readStored();
let prompt: CredentialPrompt | null = null;
let pendingPrompt: Promise<Credentials | null> | null = null;
const listeners: (() => void)[] = [];

function readStored(): Credentials | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Credentials) : null;
  } catch {
    return null;
  }
}

export function setCredentialPrompt(p: CredentialPrompt): void {
  prompt = p;
}

export function currentCredentials(): Credentials | null {
  return credentials;
}

/** Called whenever the credentials change (the header shows who is signed in). */
export function onCredentialsChange(listener: () => void): void {
  listeners.push(listener);
}

export function signOut(): void {
  credentials = null;
  sessionStorage.removeItem(STORAGE_KEY);
  listeners.forEach((l) => l());
}

/** `Basic` credentials from a user name and password (UTF-8, base64). */
export function basic(user: string, password: string): Credentials {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = "";
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return { header: `Basic ${btoa(binary)}`, label: user };
}

export function bearer(token: string): Credentials {
  return { header: `Bearer ${token.trim()}`, label: "token" };
}

/** The API root: the directory above the console's own. */
export function apiUrl(path: string): string {
  return new URL(`../${path.replace(/^\//, "")}`, document.baseURI).toString();
}

async function askForCredentials(reason: string): Promise<Credentials | null> {
  if (!prompt) return null;
  // Concurrent 401s (the poller and a click) share one prompt.
  pendingPrompt ??= prompt(reason).then((answer) => {
    pendingPrompt = null;
    if (!answer) return null;
    credentials = answer.credentials;
    if (answer.keep) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
    else sessionStorage.removeItem(STORAGE_KEY);
    listeners.forEach((l) => l());
    return credentials;
  });
  return pendingPrompt;
}

interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: Blob;
  contentType?: string;
  /** Expect text rather than JSON (`/metrics`). */
  text?: boolean;
}

/** One request; throws an ApiError with the API's own message on failure. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  for (;;) {
    const headers: Record<string, string> = { Accept: opts.text ? "text/plain" : "application/json" };
    let body: BodyInit | undefined;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.body) {
      headers["Content-Type"] = opts.contentType ?? "application/octet-stream";
      body = opts.body;
    }
    const sentWith = credentials;
    if (sentWith) headers["Authorization"] = sentWith.header;
    const response = await fetch(apiUrl(path), {
      method: opts.method ?? "GET",
      headers,
      body,
      credentials: "omit",
      cache: "no-store",
    });
    if (response.status === 401) {
      const message = await errorMessage(response);
      // Someone else may have signed in while this request was out.
      if (credentials && credentials !== sentWith) continue;
      const fresh = await askForCredentials(sentWith ? `Those credentials were refused: ${message}` : message);
      if (fresh) continue;
      throw new ApiError(401, message);
    }
    if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
    if (opts.text) return (await response.text()) as T;
    const raw = await response.text();
    return (raw ? JSON.parse(raw) : null) as T;
  }
}

async function errorMessage(response: Response): Promise<string> {
  const raw = await response.text();
  try {
    const parsed = JSON.parse(raw) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // Not JSON: use the text itself.
  }
  return raw.trim() || `${response.status} ${response.statusText}`;
}

const seg = encodeURIComponent;

// ---- the endpoints the console uses ---------------------------------------

export const api = {
  connectors: () => request<ExpandedConnectors>("connectors?expand=status&expand=info"),
  status: (name: string) => request<ConnectorStatus>(`connectors/${seg(name)}/status`),
  info: (name: string) => request<ConnectorInfo>(`connectors/${seg(name)}`),
  config: (name: string) => request<Record<string, string>>(`connectors/${seg(name)}/config`),
  create: (name: string, config: Record<string, string>) =>
    request<ConnectorInfo>("connectors", { method: "POST", json: { name, config } }),
  putConfig: (name: string, config: Record<string, string>) =>
    request<ConnectorInfo>(`connectors/${seg(name)}/config`, { method: "PUT", json: config }),
  pause: (name: string) => request<null>(`connectors/${seg(name)}/pause`, { method: "PUT" }),
  resume: (name: string) => request<null>(`connectors/${seg(name)}/resume`, { method: "PUT" }),
  stop: (name: string) => request<null>(`connectors/${seg(name)}/stop`, { method: "PUT" }),
  restart: (name: string, includeTasks: boolean, onlyFailed: boolean) =>
    request<unknown>(`connectors/${seg(name)}/restart?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`, {
      method: "POST",
    }),
  restartTask: (name: string, task: number) =>
    request<null>(`connectors/${seg(name)}/tasks/${task}/restart`, { method: "POST" }),
  remove: (name: string) => request<null>(`connectors/${seg(name)}`, { method: "DELETE" }),
  offsets: (name: string) => request<Offsets>(`connectors/${seg(name)}/offsets`),
  resetOffsets: (name: string) =>
    request<{ message?: string }>(`connectors/${seg(name)}/offsets`, { method: "DELETE" }),
  pluginConfig: (cls: string) => request<ConfigDefinition[]>(`connector-plugins/${seg(cls)}/config`),
  plugins: () => request<PluginSummary[]>("connector-plugins?connectorsOnly=false"),
  validate: (cls: string, config: Record<string, string>) =>
    request<ConfigInfos>(`connector-plugins/${seg(cls)}/config/validate`, { method: "PUT", json: config }),
  pluginVersions: () => request<PluginVersion[]>("wasmconnect/plugins"),
  upload: (file: Blob) =>
    request<PluginVersion>("wasmconnect/plugins", { method: "POST", body: file, contentType: "application/wasm" }),
  deleteVersion: (cls: string, version: string) =>
    request<null>(`wasmconnect/plugins/${seg(cls)}/${seg(version)}`, { method: "DELETE" }),
  metrics: () => request<string>("metrics", { text: true }),
};
