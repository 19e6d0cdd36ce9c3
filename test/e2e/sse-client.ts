/** A minimal Server-Sent Events reader over fetch, for e2e tests. */
export interface SseClient {
  /** `data:` payloads received so far (multi-line data joined with \n). */
  readonly events: string[];
  /** Resolves once the response headers arrived. */
  readonly ready: Promise<void>;
  close(): void;
}

export function sse(url: string): SseClient {
  const ctrl = new AbortController();
  const events: string[] = [];
  let buf = '';
  const ready = fetch(url, { signal: ctrl.signal }).then((res) => {
    if (res.status !== 200 || !res.body) throw new Error(`SSE ${url}: status ${res.status}`);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += dec.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).replace(/^ /, ''));
            if (data.length) events.push(data.join('\n'));
          }
        }
      } catch {
        // aborted
      }
    })();
  });
  return { events, ready, close: () => ctrl.abort() };
}
