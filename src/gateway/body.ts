/** Reads a request body with a size limit (413 past it), without buffering more than the limit. */
import type { IncomingMessage } from 'node:http';
import { SluiceError } from '../engine/errors.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new SluiceError('SLU_ERR_MESSAGE_TOO_LARGE', [declared, limit]));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new SluiceError('SLU_ERR_MESSAGE_TOO_LARGE', [size, limit]));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
