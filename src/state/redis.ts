/**
 * Hot state in Redis. Each operation is one Lua script, so it is atomic however many gateway
 * processes share the Redis, and every script reads the time from Redis (`TIME`), so the
 * processes' clocks never matter. Keys carry a prefix (default `sluice:`) and expire with their
 * window, so Redis holds nothing that is not in use.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { SluiceError } from '../engine/errors.js';
import type { CounterPeek, HotState, SlidingResult, TakeResult, WindowMode } from './types.js';

// The time in ms, from Redis. Shared head of every script.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS[1]: sorted set of allowed hits (score = ms). ARGV: limit, windowMs.
// The member is the exact Redis time plus the count, unique even within one microsecond.
const SLIDING = `${NOW}
local limit = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
local c = redis.call('ZCARD', KEYS[1])
local allowed = 0
if c < limit then
  redis.call('ZADD', KEYS[1], now, t[1] .. '.' .. t[2] .. ':' .. c)
  c = c + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], win)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = win
if oldest[2] then reset = tonumber(oldest[2]) + win - now end
local remaining = limit - c
if remaining < 0 then remaining = 0 end
return {allowed, remaining, reset}
`;

// KEYS[1]: hash {n = used, r = window end ms or -1}. ARGV: limit, windowMs, want, min, aligned.
// Same rules as MemoryState.takeSync / windowEnd / grantFor.
const TAKE = `${NOW}
local limit = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local min = tonumber(ARGV[4])
local aligned = ARGV[5] == '1'
local cur = redis.call('HMGET', KEYS[1], 'n', 'r')
local n = tonumber(cur[1])
local r = tonumber(cur[2])
if n == nil or r == nil or (r >= 0 and now >= r) or (r < 0 and win > 0) then
  n = 0
  if win <= 0 then r = -1
  elseif aligned then r = (math.floor(now / win) + 1) * win
  else r = now + win end
end
local avail = limit - n
if avail < 0 then avail = 0 end
local w = want
if want > min and avail < want * 4 then w = min end
local g = w
if avail < g then g = avail end
if g < min then g = 0 end
n = n + g
redis.call('HSET', KEYS[1], 'n', n, 'r', r)
if r >= 0 then redis.call('PEXPIREAT', KEYS[1], r + 1000) else redis.call('PERSIST', KEYS[1]) end
local remaining = limit - n
if remaining < 0 then remaining = 0 end
local reset = -1
if r >= 0 then reset = r - now end
return {g, remaining, reset, tostring(r)}
`;

// KEYS[1]: as TAKE. ARGV: amount, window.
const GIVE_BACK = `
local cur = redis.call('HMGET', KEYS[1], 'n', 'r')
if cur[2] and cur[2] == ARGV[2] then
  local n = tonumber(cur[1]) - tonumber(ARGV[1])
  if n < 0 then n = 0 end
  redis.call('HSET', KEYS[1], 'n', n)
end
return 0
`;

const PEEK = `${NOW}
local cur = redis.call('HMGET', KEYS[1], 'n', 'r')
local n = tonumber(cur[1])
local r = tonumber(cur[2])
if n == nil or r == nil or (r >= 0 and now >= r) then return {} end
local reset = -1
if r >= 0 then reset = r - now end
return {n, reset}
`;

class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

const scripts = { sliding: new Script(SLIDING), take: new Script(TAKE), giveBack: new Script(GIVE_BACK), peek: new Script(PEEK) };

export interface RedisStateOptions {
  readonly url: string;
  /** Prefix of every key and channel (default `sluice:`). */
  readonly prefix?: string;
  /** Per-command timeout (ms): a Redis that hangs must not hang requests. Default 2000. */
  readonly commandTimeoutMs?: number;
}

export class RedisState implements HotState {
  readonly kind = 'redis' as const;
  readonly redis: Redis;
  readonly prefix: string;

  private constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /** Connects (or fails with SLU_ERR_STATE_UNAVAILABLE) before returning. */
  static async connect(opts: RedisStateOptions): Promise<RedisState> {
    const redis = new Redis(opts.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      enableAutoPipelining: true,
    });
    redis.on('error', () => undefined); // reported per command; ioredis reconnects by itself
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new SluiceError('SLU_ERR_STATE_UNAVAILABLE', [`Redis at ${redactRedisUrl(opts.url)}: ${(err as Error).message}`], { cause: err });
    }
    return new RedisState(redis, opts.prefix ?? 'sluice:');
  }

  async #run(script: Script, key: string, args: readonly (string | number)[]): Promise<unknown> {
    const k = this.prefix + key;
    try {
      try {
        return await this.redis.evalsha(script.sha, 1, k, ...args);
      } catch (err) {
        if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
        return await this.redis.eval(script.lua, 1, k, ...args);
      }
    } catch (err) {
      throw new SluiceError('SLU_ERR_STATE_UNAVAILABLE', [(err as Error).message], { cause: err });
    }
  }

  async slidingHit(key: string, limit: number, windowMs: number): Promise<SlidingResult> {
    const [allowed, remaining, reset] = (await this.#run(scripts.sliding, key, [limit, Math.max(1, Math.round(windowMs))])) as number[];
    return { allowed: allowed === 1, limit, remaining: remaining!, resetInMs: reset! };
  }

  async take(key: string, limit: number, windowMs: number, want: number, min: number, mode: WindowMode): Promise<TakeResult> {
    const out = (await this.#run(scripts.take, key, [limit, Math.round(windowMs), want, min, mode === 'aligned' ? '1' : '0'])) as [number, number, number, string];
    return { granted: out[0], remaining: out[1], resetInMs: out[2], window: Number(out[3]) };
  }

  async giveBack(key: string, amount: number, window: number): Promise<void> {
    if (amount <= 0) return;
    await this.#run(scripts.giveBack, key, [amount, String(window)]);
  }

  async peek(key: string): Promise<CounterPeek | undefined> {
    const out = (await this.#run(scripts.peek, key, [])) as number[];
    return out.length ? { used: out[0]!, resetInMs: out[1]! } : undefined;
  }

  async reset(keys: readonly string[]): Promise<void> {
    if (!keys.length) return;
    try {
      await this.redis.del(...keys.map((k) => this.prefix + k));
    } catch (err) {
      throw new SluiceError('SLU_ERR_STATE_UNAVAILABLE', [(err as Error).message], { cause: err });
    }
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
