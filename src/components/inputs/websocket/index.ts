/**
 * `websocket` input: connects to a WebSocket server and reads each frame (text or binary) as a
 * message. `open_message` is sent after every (re)connection. A lost connection makes the
 * engine reconnect with backoff; with `connection.max_retries` >= 0 the input gives up (and the
 * stream ends) after that many consecutive failed attempts. WebSocket has no redelivery:
 * nacked messages are replayed locally (`auto_replay_nacks`). When the stream falls behind,
 * the socket is paused so the server feels the back pressure.
 */
import type WebSocket from 'ws';
import type { Input, ReadResult } from '../../../engine/component.js';
import { untilWoken } from '../../../engine/backoff.js';
import { defineInput } from '../../../engine/component.js';
import { Message } from '../../../engine/message.js';
import { field, autoReplayNacksField } from '../../../engine/spec.js';
import { autoReplayNacks, noopAck } from '../../../engine/acks.js';
import { endOfInput, notConnected } from '../../../engine/errors.js';
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

export interface WebSocketInputConfig extends WebSocketClientConfig {
  open_message?: string;
  open_message_type: 'binary' | 'text';
  auto_replay_nacks: boolean;
  connection: { max_retries?: number };
}

/** Frames buffered before the socket is paused. */
const HIGH_WATER = 1024;
const LOW_WATER = 256;

/** The input without the nack replay wrapper (exported for tests). */
export class WebSocketInput implements Input {
  readonly #conf: WebSocketInputConfig;
  readonly #dialer: WebSocketDialer;
  readonly #log: Logger;
  #ws: WebSocket | undefined;
  #queue: Buffer[] = [];
  #paused = false;
  #wake: (() => void) | undefined;
  #lost: Error | undefined;
  #failures = 0;
  #gaveUp = false;
  #closed = false;

  constructor(conf: WebSocketInputConfig, logger: Logger) {
    this.#conf = conf;
    this.#log = logger;
    this.#dialer = new WebSocketDialer(conf);
    if (conf.proxy_url) logger.warn('websocket proxy_url is not supported; connecting directly', { url: this.#dialer.where });
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#gaveUp || this.#closed) return;
    if (this.#ws && !this.#lost) return;
    let ws: WebSocket;
    try {
      ws = await this.#dialer.open(signal, (sock) => this.#attach(sock));
    } catch (err) {
      this.#failures++;
      const max = this.#conf.connection.max_retries;
      if (max !== undefined && max >= 0 && this.#failures > max && !signal.aborted) {
        this.#log.error('websocket input gives up after failed connection attempts', { url: this.#dialer.where, attempts: this.#failures, error: (err as Error).message });
        this.#gaveUp = true;
        return;
      }
      throw err;
    }
    this.#failures = 0;
    if (this.#conf.open_message) {
      const open = this.#conf.open_message;
      await new Promise<void>((resolve, reject) =>
        ws.send(this.#conf.open_message_type === 'text' ? open : Buffer.from(open), { binary: this.#conf.open_message_type !== 'text' }, (err) => (err ? reject(err) : resolve())),
      ).catch((err: unknown) => {
        ws.terminate();
        throw new Error(`websocket: sending open_message to ${this.#dialer.where} failed: ${(err as Error).message}`);
      });
    }
  }

  /** Wires a new socket in; runs as it opens, before any frame is emitted. */
  #attach(ws: WebSocket): void {
    this.#lost = undefined;
    this.#paused = false;
    this.#ws = ws;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      this.#queue.push(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
      if (this.#queue.length >= HIGH_WATER && !this.#paused) {
        this.#paused = true;
        ws.pause();
      }
      this.#wake?.();
    });
    ws.on('error', (err) => this.#log.debug('websocket input error', { url: this.#dialer.where, error: err.message }));
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws) return;
      const why = reason.length ? `${code} ${reason.toString('utf8')}` : String(code);
      this.#lost = new Error(`websocket connection to ${this.#dialer.where} closed (${why})`);
      this.#wake?.();
    });
  }

  async read(signal: AbortSignal): Promise<ReadResult> {
    for (;;) {
      const data = this.#queue.shift();
      if (data) {
        if (this.#paused && this.#queue.length <= LOW_WATER) {
          this.#paused = false;
          this.#ws?.resume();
        }
        return { batch: [new Message(data)], ack: noopAck };
      }
      if (this.#gaveUp || this.#closed) throw endOfInput();
      if (this.#lost || !this.#ws) {
        const err = this.#lost;
        this.#ws = undefined;
        throw notConnected(err);
      }
      if (signal.aborted) throw new Error('aborted');
      await untilWoken(signal, (wake) => (this.#wake = () => ((this.#wake = undefined), wake())));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const ws = this.#ws;
    this.#ws = undefined;
    this.#wake?.();
    if (ws) await closeSocket(ws);
  }
}

export const spec = defineInput<WebSocketInputConfig>({
  name: 'websocket',
  summary: 'Connects to a WebSocket server and reads each frame as a message.',
  description:
    '`open_message` (when set) is sent each time a connection is established. A lost connection is re-established with backoff; `connection.max_retries` bounds the consecutive failed attempts after which the input ends.',
  categories: ['Network'],
  config: field.object('', '', [
    websocketUrlField(),
    websocketProxyField(),
    field.string('open_message', 'A message sent to the server after connecting.', { optional: true, advanced: true }),
    field.string('open_message_type', 'Frame type of `open_message`.', { default: 'binary', options: ['binary', 'text'], advanced: true }),
    autoReplayNacksField(),
    ...websocketTailFields(),
    field.object('connection', 'How connection attempts are made.', [
      field.int('max_retries', 'Consecutive failed connection attempts after which the input ends (0 = never retry; below zero or unset = retry forever).', { optional: true, examples: [-1, 10] }),
    ], { advanced: true }),
    ...websocketAuthFields(),
  ]),
  lint: (c) => (c.jwt?.enabled && !c.jwt.private_key_file ? ['jwt.private_key_file is required when jwt is enabled'] : []),
  examples: [
    {
      title: 'Subscribe with an open message',
      config: 'input:\n  websocket:\n    url: wss://feed.example.com/ws\n    open_message: \'{"subscribe":"trades"}\'\n    open_message_type: text\n',
    },
  ],
  build: (conf, ctx) => autoReplayNacks(new WebSocketInput(conf, ctx.logger), conf.auto_replay_nacks),
});
