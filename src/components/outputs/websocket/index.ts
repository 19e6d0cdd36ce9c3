/**
 * `websocket` output: connects to a WebSocket server and sends each message as a binary frame.
 * A write resolves once the frame was handed to the socket. When the connection is lost the
 * write fails with `notConnected()`: the engine reconnects with backoff (logging the URL) and
 * sends the batch again, so nothing is acknowledged that was not written.
 */
import type WebSocket from 'ws';
import type { Output } from '../../../engine/component.js';
import { defineOutput } from '../../../engine/component.js';
import type { Batch } from '../../../engine/message.js';
import { field } from '../../../engine/spec.js';
import { notConnected } from '../../../engine/errors.js';
import type { Logger } from '../../../engine/logger.js';
import {
  WebSocketDialer,
  closeSocket,
  websocketAuthFields,
  websocketProxyField,
  websocketTailFields,
  websocketUrlField,
  type WebSocketClientConfig,
} from '../../websocket-common.js';

export type WebSocketOutputConfig = WebSocketClientConfig;

class WebSocketOutput implements Output {
  readonly maxInFlight = 1;
  readonly #dialer: WebSocketDialer;
  readonly #log: Logger;
  #ws: WebSocket | undefined;
  #lost: Error | undefined;

  constructor(conf: WebSocketOutputConfig, logger: Logger) {
    this.#dialer = new WebSocketDialer(conf);
    this.#log = logger;
    if (conf.proxy_url) logger.warn('websocket proxy_url is not supported; connecting directly', { url: this.#dialer.where });
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#ws && !this.#lost && this.#ws.readyState === this.#ws.OPEN) return;
    const old = this.#ws;
    this.#ws = undefined;
    old?.terminate();
    this.#ws = await this.#dialer.open(signal, (ws) => {
      this.#lost = undefined;
      ws.on('error', (err) => this.#log.debug('websocket output error', { url: this.#dialer.where, error: err.message }));
      ws.on('close', (code) => {
        if (this.#ws === ws) this.#lost = new Error(`websocket connection to ${this.#dialer.where} closed (${code})`);
      });
      // Frames the server sends are not part of this output's contract; they are read and dropped.
      ws.on('message', () => {});
    });
  }

  write(batch: Batch): Promise<void> {
    const ws = this.#ws;
    if (!ws || this.#lost || ws.readyState !== ws.OPEN) return Promise.reject(notConnected(this.#lost ?? new Error(`websocket ${this.#dialer.where} is not connected`)));
    if (batch.length === 1) return send(ws, batch[0]!.bytes());
    return (async () => {
      for (const m of batch) await send(ws, m.bytes());
    })();
  }

  async close(): Promise<void> {
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws) await closeSocket(ws);
  }
}

function send(ws: WebSocket, data: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => ws.send(data, { binary: true }, (err) => (err ? reject(notConnected(err)) : resolve())));
}

export const spec = defineOutput<WebSocketOutputConfig>({
  name: 'websocket',
  summary: 'Sends messages to a WebSocket server, one binary frame each.',
  description: 'The connection is opened at start and re-established with backoff when lost; messages are held (back pressure) until it is back.',
  categories: ['Network'],
  config: field.object('', '', [websocketUrlField(), websocketProxyField(), ...websocketTailFields(), ...websocketAuthFields()]),
  lint: (c) => (c.jwt?.enabled && !c.jwt.private_key_file ? ['jwt.private_key_file is required when jwt is enabled'] : []),
  build: (conf, ctx) => new WebSocketOutput(conf, ctx.logger),
});
