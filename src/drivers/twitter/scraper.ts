/**
 * The part of @the-convocation/twitter-scraper the X driver uses, typed here: the
 * package's declarations pull in cross-fetch's `/// <reference lib="dom" />`, which would
 * put the DOM's fetch types over Node's in the whole project. The module is loaded by a
 * specifier TypeScript does not follow, and on first use only (it is heavy at start-up).
 */
export interface FlowResponse {
  errors?: Array<{ code?: number; message?: string }>;
  flow_token?: string;
  subtasks?: Array<{ subtask_id: string; enter_text?: { keyboard_type?: string } }>;
}

export type FlowResult = { status: "success"; response: FlowResponse } | { status: "error"; err: Error };

export interface FlowApi {
  sendFlowRequest(request: { flow_token: string; subtask_inputs: Array<Record<string, unknown>> }): Promise<FlowResult>;
  getFlowToken(): string;
}

export type FlowSubtaskHandler = (subtaskId: string, previous: FlowResponse, credentials: { username: string; password: string; email?: string }, api: FlowApi) => Promise<FlowResult>;

export interface ScraperOptions {
  fetch: typeof fetch;
  rateLimitStrategy: { onRateLimit(event: unknown): Promise<void> };
  experimental: { xClientTransactionId: boolean; xpff: boolean; flowStepDelay: number };
}

export interface TwitterScraper {
  registerAuthSubtaskHandler(subtaskId: string, handler: FlowSubtaskHandler): void;
  login(username: string, password: string, email?: string): Promise<void>;
  getCookies(): Promise<Array<{ key: string; value: string }>>;
}

const moduleName: string = "@the-convocation/twitter-scraper";

export async function createScraper(options: ScraperOptions): Promise<TwitterScraper> {
  const { Scraper } = (await import(moduleName)) as { Scraper: new (options: ScraperOptions) => TwitterScraper };
  return new Scraper(options);
}
