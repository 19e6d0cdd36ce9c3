/**
 * The access model: Tyk's session (key), policy and access-definition shapes, plus Sluice's
 * additions (topic rights, limits per delivered/published message). These are the JSON shapes
 * the management API accepts and returns (Tyk Gateway API compatible), so field names stay
 * snake_case as Tyk writes them.
 *
 * Keys are never stored in plain text: the store is keyed by `keyHash(key)`.
 */

/** Requests (or messages) allowed per `per` seconds; throttling; quota. 0/absent = unlimited. */
export interface LimitFields {
  rate?: number;
  per?: number;
  throttle_interval?: number;
  throttle_retry_limit?: number;
  quota_max?: number;
  quota_remaining?: number;
  quota_renews?: number;
  quota_renewal_rate?: number;
  max_query_depth?: number;
}

export interface AllowedUrl {
  url: string;
  methods: string[];
}

/**
 * Sluice extension: which topics/subjects/channels a key may subscribe to or publish to on an
 * API, as MQTT-style patterns (`+` one level, `#` the rest; `/` or `.` separated).
 */
export interface TopicRights {
  subscribe?: string[];
  publish?: string[];
}

/**
 * Sluice extension: limits counted per message and per byte rather than per request. Tyk counts
 * only HTTP requests and connections; pushed messages are never counted there.
 */
export interface MessageLimits {
  /** Messages delivered to this key's subscribers. */
  delivered?: { rate?: number; per?: number; quota_max?: number; quota_renewal_rate?: number; bytes_quota_max?: number };
  /** Messages this key publishes. */
  published?: { rate?: number; per?: number; quota_max?: number; quota_renewal_rate?: number; bytes_quota_max?: number };
}

export interface AccessDefinition {
  api_id: string;
  api_name?: string;
  versions?: string[];
  allowed_urls?: AllowedUrl[];
  limit?: LimitFields;
  allowance_scope?: string;
  /** Sluice extension. */
  topics?: TopicRights;
  /** Sluice extension. */
  message_limits?: MessageLimits;
}

/** Tyk's session object (the value of a key). Unknown fields are kept as they came. */
export interface Session extends LimitFields {
  last_check?: number;
  allowance?: number;
  date_created?: string;
  /** Unix seconds; < 1 means never. */
  expires?: number;
  access_rights?: Record<string, AccessDefinition>;
  org_id?: string;
  basic_auth_data?: { password: string; hash_type: string };
  jwt_data?: { secret: string };
  is_inactive?: boolean;
  apply_policy_id?: string;
  apply_policies?: string[];
  meta_data?: Record<string, unknown>;
  tags?: string[];
  alias?: string;
  last_updated?: string;
  /** Sluice extension, global (all APIs). */
  message_limits?: MessageLimits;
  [field: string]: unknown;
}

export interface PolicyPartitions {
  quota?: boolean;
  rate_limit?: boolean;
  complexity?: boolean;
  acl?: boolean;
  per_api?: boolean;
}

/** Tyk's policy object. */
export interface Policy extends LimitFields {
  _id?: string;
  id: string;
  name?: string;
  org_id?: string;
  access_rights?: Record<string, AccessDefinition>;
  active?: boolean;
  is_inactive?: boolean;
  tags?: string[];
  key_expires_in?: number;
  partitions?: PolicyPartitions;
  meta_data?: Record<string, unknown>;
  last_updated?: string;
  /** Sluice extension. */
  message_limits?: MessageLimits;
  [field: string]: unknown;
}

/**
 * A request's identity after authentication: which key (by hash), the effective session (key +
 * policies applied), and what the API's auth produced (JWT claims, token).
 */
export interface Identity {
  /** Hash of the key or token; '' for keyless APIs. Used for counters and revocation. */
  readonly keyHash: string;
  /** The effective session, policies applied. */
  readonly session: Session;
  /** Claims of a JWT, when the API uses JWT or OAuth. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The presented credential, for `$tyk_context.token`. Never logged. */
  readonly token?: string;
}

/** An authentication failure as the client sees it: Tyk's status codes and messages. */
export interface AuthFailure {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Change notifications, so every gateway process applies revocations and edits within a second. */
export type AccessEvent =
  /**
   * `deactivated`: the key (or one of its policies) became inactive; `expired`: its `expires`
   * passed (noticed within a second by the process that has it cached). Both, like `deleted`,
   * mean connections authenticated with this key must close.
   */
  | { readonly kind: 'key'; readonly keyHash: string; readonly action: 'updated' | 'deleted' | 'deactivated' | 'expired' }
  | { readonly kind: 'policy'; readonly id: string; readonly action: 'updated' | 'deleted' }
  | { readonly kind: 'api'; readonly id: string; readonly action: 'updated' | 'deleted' };
