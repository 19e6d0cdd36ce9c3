/**
 * Server-to-client WebSocket frames (RFC 6455 §5.2: unmasked, FIN set). Built once per message
 * and written as the same Buffer to every subscriber's socket.
 */
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;

export function wsFrame(payload: Uint8Array, opcode: number): Buffer {
  const len = payload.byteLength;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + len);
  buf[0] = 0x80 | opcode;
  if (len < 126) buf[1] = len;
  else if (len < 65536) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeBigUInt64BE(BigInt(len), 2);
  }
  buf.set(payload, head);
  return buf;
}
