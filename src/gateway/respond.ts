/** JSON error bodies in Tyk's shape: `{"error": "<message>"}`. */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { error: message }, headers);
}

/** Refuses a WebSocket upgrade with a plain HTTP error. */
export function rejectUpgrade(socket: Socket, status: number, message: string): void {
  rejectUpgradeRaw(socket, status, JSON.stringify({ error: message }));
}

/** Refuses an upgrade with a ready JSON body and extra headers. */
export function rejectUpgradeRaw(socket: Socket, status: number, body: string, headers: Readonly<Record<string, string>> = {}): void {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  413: 'Payload Too Large', 429: 'Too Many Requests', 503: 'Service Unavailable',
};
