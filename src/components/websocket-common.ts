/**
 * What the `websocket` client input and output share: their fields (Benthos/Bento names) and
 * opening a connection with TLS and auth headers on the handshake. A failed connection names
 * the (redacted) URL and the reason; secrets stay out of errors.
 */
import WebSocket from 'ws';
import { field, tlsFields, type FieldSpec } from '../engine/spec.js';
import { Authenticator, authFields, errText, redactUrl, tlsOptions, type AuthConfig, type TlsConfig } from './http-client-common.js';

export interface WebSocketClientConfig extends AuthConfig {
  url: string;
  proxy_url?: string;
  tls: TlsConfig;
}

/** Fields common to the websocket input and output (the input adds its own after `url`). */
export const websocketUrlField = (): FieldSpec => field.string('url', 'The URL to connect to.', { examples: ['ws://localhost:4195/get/ws'] });
export const websocketProxyField = (): FieldSpec => field.string('proxy_url', 'Accepted for compatibility; Sluice connects directly.', { optional: true, advanced: true });
export const websocketTailFields = (): FieldSpec[] => [tlsFields()];
export const websocketAuthFields = (): FieldSpec[] => authFields(false);

const HANDSHAKE_TIMEOUT_MS = 30_000;

/** Prepared once per component: URL check, TLS options and the auth signer. */
export class WebSocketDialer {
  readonly url: string;
  readonly where: string;
  readonly #auth: Authenticator;
  readonly #tls: ReturnType<typeof tlsOptions>;

  constructor(conf: WebSocketClientConfig) {
    this.where = redactUrl(conf.url);
    let u: URL;
    try {
      u = new URL(conf.url);
    } catch {
      throw new Error(`url ${JSON.stringify(this.where)} is not a valid URL`);
    }
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) throw new Error(`url ${this.where}: expected a ws:// or wss:// URL`);
    if (u.protocol === 'http:') u.protocol = 'ws:';
    if (u.protocol === 'https:') u.protocol = 'wss:';
    this.url = u.toString();
    this.#tls = tlsOptions(conf.tls);
    this.#auth = new Authenticator(conf, undefined, HANDSHAKE_TIMEOUT_MS);
  }

  /**
   * Opens a connection; rejects with an error naming the URL when it cannot. `setup` runs as
   * the connection opens, before any frame can be emitted (frames may arrive with the handshake).
   */
  async open(signal: AbortSignal, setup?: (ws: WebSocket) => void): Promise<WebSocket> {
    const headers: Record<string, string> = {};
    const h: Record<string, string | number | string[]> = {};
    await this.#auth.apply(h, 'GET', this.url.replace(/^ws/, 'http'), signal);
    if (h.authorization) headers.Authorization = String(h.authorization);
    return new Promise<WebSocket>((resolve, reject) => {
      if (signal.aborted) return reject(new Error(`websocket: connecting to ${this.where} aborted`));
      const ws = new WebSocket(this.url, {
        headers,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        perMessageDeflate: false,
        ...(this.#tls ?? {}),
      });
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        ws.off('open', onOpen);
        if (err) {
          ws.removeAllListeners();
          ws.on('error', () => {});
          ws.terminate();
          reject(err);
        } else resolve(ws);
      };
      const onOpen = () => {
        try {
          setup?.(ws);
        } catch (err) {
          return finish(err instanceof Error ? err : new Error(String(err)));
        }
        finish();
      };
      const onAbort = () => finish(new Error(`websocket: connecting to ${this.where} aborted`));
      ws.once('open', onOpen);
      ws.once('error', (err) => finish(new Error(`websocket: cannot connect to ${this.where}: ${errText(err)}`)));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        finish(new Error(`websocket: cannot connect to ${this.where}: the server answered ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd()));
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Closes politely, terminating when the server does not answer the close within a second. */
export function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    const t = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 1000);
    ws.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      ws.close(1000);
    } catch {
      ws.terminate();
    }
  });
}
