/**
 * How `http_server` components reach the shared HTTP listener. The engine defines this
 * interface; the gateway implements it (one host per API, scoped to its listen path, or the
 * service-wide server in standalone `sluice run`). Components never touch sockets: the gateway
 * owns HTTP, SSE and WebSocket framing so that a message is serialised once for all
 * subscribers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Batch } from './message.js';

export interface IngressRequest {
  readonly method: string;
  /** Path relative to the API's listen path. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddr: string;
  /** The body (or one WebSocket frame). */
  readonly body: Buffer;
  /** Set when the message arrived as a WebSocket frame. */
  readonly websocket: boolean;
}

export interface IngressResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
}

export interface IngressOptions {
  /** Plain HTTP path (POST by default); '' to disable. */
  readonly path: string;
  /** WebSocket path whose frames are published; '' to disable. */
  readonly wsPath: string;
  readonly allowedVerbs: readonly string[];
  /** Message sent to a WebSocket publisher when it connects. */
  readonly wsWelcomeMessage?: string;
  /** Browsers from these origins may call the paths ('*' = any); WebSocket upgrades from others are refused. */
  readonly cors?: CorsOptions;
  /** Paths that are only Bento's defaults: skipped (not an error) when another stream already serves them. */
  readonly softPaths?: readonly string[];
}

export interface CorsOptions {
  readonly allowedOrigins: readonly string[];
}

/** Called for each request/frame; resolves with the HTTP response once the message was handled. */
export type IngressHandler = (req: IngressRequest) => Promise<IngressResponse>;

export type StreamFormat = 'raw_bytes' | 'event_source';
export type DeliveryMode = 'broadcast' | 'round_robin';

export type SlowConsumerPolicy = 'disconnect' | 'drop_oldest' | 'conflate';

/** A compiled subscriber filter: true keeps the message. Compiled once per distinct filter. */
export type MessageFilter = (batch: Batch, index: number) => boolean;

export interface EgressOptions {
  /** One message per GET; '' to disable. With `?cursor=` it long-polls from the replay buffer. */
  readonly path: string;
  /** Streamed HTTP (raw lines or SSE); '' to disable. */
  readonly streamPath: string;
  /** WebSocket subscribers; '' to disable. */
  readonly wsPath: string;
  readonly allowedVerbs: readonly string[];
  readonly cors?: CorsOptions;
  /** Paths that are only Bento's defaults: skipped (not an error) when another stream already serves them. */
  readonly softPaths?: readonly string[];
  /** How long a GET on `path` waits for a message. */
  readonly timeoutMs: number;
  readonly streamFormat: StreamFormat;
  /** SSE comment interval; 0 = none. */
  readonly heartbeatMs: number;
  readonly wsMessageType: 'binary' | 'text';
  readonly delivery: DeliveryMode;
  /** Messages kept for SSE `Last-Event-ID` resume and long-poll cursors (0 = none), and for how long. */
  readonly replay?: { readonly size: number; readonly maxAgeMs: number };
  /** What to do when a subscriber cannot keep up. */
  readonly slowConsumer?: {
    readonly policy: SlowConsumerPolicy;
    /** Messages queued for one subscriber before the policy applies. */
    readonly maxQueue: number;
    /** Conflation key per message (policy `conflate`). */
    readonly conflateKey?: (batch: Batch, index: number) => string;
  };
  /** Subscriber filters the API allows: a Bloblang query (`?filter=`) and/or `?<field>=<value>` pairs. */
  readonly filters?: {
    readonly fields: readonly string[];
    readonly compileQuery?: (query: string) => MessageFilter;
  };
  /** SSE `event:` name per message ('' or undefined: none). */
  readonly sseEvent?: (batch: Batch, index: number) => string;
  /** WebSocket ping interval and how long a pong may take. */
  readonly pingIntervalMs?: number;
  readonly pongTimeoutMs?: number;
  /** Allow permessage-deflate (costs a compression per subscriber). */
  readonly wsCompression?: boolean;
  /** Connections this output accepts (0 = no limit of its own), and per client address/key. */
  readonly maxConnections?: number;
  readonly maxConnectionsPerClient?: number;
}

export interface EgressChannel {
  /**
   * Hands a batch to the subscribers. Broadcast: every connected subscriber gets it and the call
   * returns synchronously (a batch nobody listens to is dropped, as on any pub/sub topic).
   * Round robin: one subscriber gets it; the promise resolves when one took it.
   */
  publish(batch: Batch): void | Promise<void>;
  readonly subscriberCount: number;
  close(): void;
}

export interface Registration {
  close(): void;
}

export interface HttpHost {
  /** Registers an ingress (http_server input). Throws SLU_ERR_ROUTE_CONFLICT if a path is taken. */
  addIngress(options: IngressOptions, handler: IngressHandler): Registration;
  /** Registers an egress (http_server output). Throws SLU_ERR_ROUTE_CONFLICT if a path is taken. */
  addEgress(options: EgressOptions): EgressChannel;
}
