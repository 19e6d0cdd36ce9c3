/**
 * The OpenAPI 3 description of Sluice's management REST API (/api/), served at
 * /api/openapi.json. Written as data; src/control/openapi.test.ts checks that every route listed
 * here exists in src/control/rest.ts and that every route there is listed here.
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const err = (description: string): Json => json(ref('Error'), description);
const pathParam = (name: string, description: string): Json => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });

const common = {
  '400': err('Malformed JSON (with its line, column and position), or a field of the wrong type or unknown (named by its path)'),
  '403': err('Missing or wrong secret'),
  '413': err('Body larger than the limit (1 MiB by default)'),
};

const limitFields: Json = {
  rate: { type: 'number', description: 'Requests allowed per `per` seconds (0 = no limit)' },
  per: { type: 'number' },
  throttle_interval: { type: 'number', description: 'Seconds to hold a request over the rate before retrying' },
  throttle_retry_limit: { type: 'number' },
  quota_max: { type: 'number', description: 'Requests per quota period; -1 or 0 = unlimited' },
  quota_renewal_rate: { type: 'number', description: 'Quota period in seconds (renews on the first request after it ends)' },
};

const messageDir: Json = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rate: { type: 'number' },
    per: { type: 'number' },
    quota_max: { type: 'number' },
    quota_renewal_rate: { type: 'number' },
    bytes_quota_max: { type: 'number' },
  },
};

export function openApiDocument(version: string): Json {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Sluice management API',
      version,
      description:
        'Manage the APIs, keys and policies of a running Sluice gateway. The Tyk Gateway API (`/tyk/...`) is served as well, for tools written for Tyk. ' +
        'Every operation needs the secret, in `x-tyk-authorization` or as `Authorization: Bearer <secret>`. Keys are named by their SHA-256 hash; the key itself is shown once, when it is created.',
    },
    security: [{ tykAuthorization: [] }, { bearer: [] }],
    paths: {
      '/api/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': json({ type: 'object' }, 'The OpenAPI document') } },
      },
      '/api/apis': {
        get: { summary: 'List APIs', responses: { '200': json({ type: 'object', properties: { apis: { type: 'array', items: ref('ApiSummary') } } }, 'The APIs'), '403': common['403'] } },
        post: {
          summary: 'Create an API',
          description: 'A Tyk OAS document with `x-tyk-api-gateway` and `x-tyk-streaming`. Its streams start at once. The id is `x-tyk-api-gateway.info.id`, generated when missing.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ApiDocument') } } },
          responses: { '201': json(ref('ApiSummary'), 'Created and started'), ...common, '409': err('The id or the listen path is taken') },
        },
      },
      '/api/apis/{id}': {
        parameters: [pathParam('id', 'API id')],
        get: { summary: 'Get an API definition', responses: { '200': json(ref('ApiDocument'), 'The document as stored'), '403': common['403'], '404': err('No such API') } },
        put: {
          summary: 'Replace an API definition',
          description: 'Only this API restarts; others run on. When the new definition cannot start, the old one keeps running.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ApiDocument') } } },
          responses: { '200': json(ref('ApiSummary'), 'Replaced'), ...common, '404': err('No such API'), '409': err('The listen path is taken') },
        },
        delete: { summary: 'Delete an API', responses: { '204': { description: 'Deleted; its streams are drained and stopped' }, '403': common['403'], '404': err('No such API') } },
      },
      '/api/keys': {
        get: {
          summary: 'List keys',
          parameters: [{ name: 'policy', in: 'query', required: false, description: 'Only keys with this policy', schema: { type: 'string' } }],
          responses: { '200': json({ type: 'object', properties: { keys: { type: 'array', items: ref('KeySummary') } } }, 'Key hashes and a few fields'), '403': common['403'] },
        },
        post: {
          summary: 'Create a key',
          parameters: [{ name: 'key_id', in: 'query', required: false, description: 'A custom key (the key becomes org_id + key_id)', schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('Session') } } },
          responses: { '201': json(ref('KeyCreated'), 'The key, shown this once, and its hash'), ...common },
        },
      },
      '/api/keys/{keyHash}': {
        parameters: [pathParam('keyHash', 'SHA-256 (hex) of the key')],
        get: {
          summary: 'Get a key',
          responses: {
            '200': json(
              { type: 'object', properties: { key_hash: { type: 'string' }, session: ref('Session'), effective: { ...ref('Session'), nullable: true }, policy_error: { type: 'string', nullable: true } } },
              'The session as stored and as in effect (policies applied, live quota)',
            ),
            '403': common['403'],
            '404': err('No such key'),
          },
        },
        put: {
          summary: 'Replace a key session',
          parameters: [{ name: 'suppress_reset', in: 'query', required: false, description: '1 keeps the running quota', schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('Session') } } },
          responses: { '200': json({ type: 'object', properties: { key_hash: { type: 'string' } } }, 'Replaced'), ...common, '404': err('No such key') },
        },
        delete: { summary: 'Revoke a key', responses: { '204': { description: 'Revoked; open connections using it are closed' }, '403': common['403'], '404': err('No such key') } },
      },
      '/api/policies': {
        get: { summary: 'List policies', responses: { '200': json({ type: 'object', properties: { policies: { type: 'array', items: ref('Policy') } } }, 'The policies'), '403': common['403'] } },
        post: {
          summary: 'Create a policy',
          requestBody: { required: true, content: { 'application/json': { schema: ref('Policy') } } },
          responses: { '201': json(ref('Policy'), 'Created'), ...common, '409': err('The id is taken') },
        },
      },
      '/api/policies/{id}': {
        parameters: [pathParam('id', 'Policy id')],
        get: { summary: 'Get a policy', responses: { '200': json(ref('Policy'), 'The policy'), '403': common['403'], '404': err('No such policy') } },
        put: {
          summary: 'Replace a policy',
          description: 'Every key using it is re-evaluated at once, in every process.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('Policy') } } },
          responses: { '200': json(ref('Policy'), 'Replaced'), ...common, '404': err('No such policy') },
        },
        delete: { summary: 'Delete a policy', responses: { '204': { description: 'Deleted' }, '403': common['403'], '404': err('No such policy') } },
      },
      '/api/streams': {
        get: {
          summary: 'State of every stream',
          responses: {
            '200': json({ type: 'object', properties: { streams: { type: 'array', items: { type: 'object', properties: { api: { type: 'string' }, stream: { type: 'string' }, state: { type: 'string' } } } } } }, 'Streams'),
            '403': common['403'],
          },
        },
      },
      '/api/streams/{apiId}': {
        parameters: [pathParam('apiId', 'API id')],
        get: {
          summary: "State of one API's streams",
          responses: {
            '200': json({ type: 'object', properties: { api: { type: 'string' }, active: { type: 'boolean' }, streams: { type: 'array', items: ref('StreamState') } } }, 'Streams'),
            '403': common['403'],
            '404': err('No such API'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        tykAuthorization: { type: 'apiKey', in: 'header', name: 'x-tyk-authorization' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'code'],
          properties: {
            error: { type: 'string' },
            code: { type: 'string', description: 'Stable error code (docs/errors.md)', example: 'SLU_ERR_CONTROL_BODY_INVALID' },
            issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
        ApiDocument: {
          type: 'object',
          description: 'A Tyk OAS document: `openapi`, `info`, `x-tyk-api-gateway` (info.name, info.id, server.listenPath) and `x-tyk-streaming.streams`',
          required: ['openapi', 'x-tyk-api-gateway', 'x-tyk-streaming'],
          additionalProperties: true,
        },
        StreamState: { type: 'object', properties: { name: { type: 'string' }, state: { type: 'string', example: 'running' } } },
        ApiSummary: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            listen_path: { type: 'string' },
            active: { type: 'boolean' },
            source: { type: 'string', enum: ['store', 'file'] },
            streams: { type: 'array', items: ref('StreamState') },
          },
        },
        KeyCreated: {
          type: 'object',
          properties: {
            key: { type: 'string', description: 'The key. Shown once; only its hash is stored. Empty for basic-auth users.' },
            key_hash: { type: 'string' },
          },
        },
        KeySummary: {
          type: 'object',
          properties: {
            key_hash: { type: 'string' },
            alias: { type: 'string' },
            apply_policies: { type: 'array', items: { type: 'string' } },
            apis: { type: 'array', items: { type: 'string' } },
            expires: { type: 'number' },
            is_inactive: { type: 'boolean' },
            tags: { type: 'array', items: { type: 'string' } },
          },
        },
        AccessDefinition: {
          type: 'object',
          properties: {
            api_id: { type: 'string' },
            api_name: { type: 'string' },
            versions: { type: 'array', items: { type: 'string' } },
            allowed_urls: { type: 'array', items: { type: 'object', properties: { url: { type: 'string', description: 'Regular expression (Go syntax) matched against the request path' }, methods: { type: 'array', items: { type: 'string' } } } } },
            limit: { type: 'object', properties: limitFields },
            allowance_scope: { type: 'string' },
            topics: {
              type: 'object',
              description: 'Sluice: MQTT-style topic patterns (`+` one level, `#` the rest) this key may subscribe to / publish on',
              properties: { subscribe: { type: 'array', items: { type: 'string' } }, publish: { type: 'array', items: { type: 'string' } } },
            },
            message_limits: ref('MessageLimits'),
          },
        },
        MessageLimits: {
          type: 'object',
          description: 'Sluice: limits per message delivered to / published by the key',
          properties: { delivered: messageDir, published: messageDir },
        },
        Session: {
          type: 'object',
          description: "Tyk's session object. Every field Tyk writes is accepted; unknown fields are refused.",
          properties: {
            ...limitFields,
            expires: { type: 'number', description: 'Unix seconds; < 1 = never' },
            access_rights: { type: 'object', additionalProperties: ref('AccessDefinition') },
            apply_policies: { type: 'array', items: { type: 'string' } },
            is_inactive: { type: 'boolean' },
            org_id: { type: 'string' },
            alias: { type: 'string' },
            meta_data: { type: 'object', additionalProperties: true },
            tags: { type: 'array', items: { type: 'string' } },
            basic_auth_data: { type: 'object', properties: { password: { type: 'string', description: 'Plain text in, scrypt hash stored, blank out' }, hash_type: { type: 'string' } } },
            message_limits: ref('MessageLimits'),
          },
        },
        Policy: {
          type: 'object',
          description: "Tyk's policy object",
          required: ['id'],
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            ...limitFields,
            access_rights: { type: 'object', additionalProperties: ref('AccessDefinition') },
            partitions: { type: 'object', properties: { quota: { type: 'boolean' }, rate_limit: { type: 'boolean' }, acl: { type: 'boolean' }, complexity: { type: 'boolean' }, per_api: { type: 'boolean' } } },
            is_inactive: { type: 'boolean' },
            active: { type: 'boolean' },
            key_expires_in: { type: 'number', description: 'New keys with this policy expire after this many seconds' },
            tags: { type: 'array', items: { type: 'string' } },
            meta_data: { type: 'object', additionalProperties: true },
            message_limits: ref('MessageLimits'),
          },
        },
      },
    },
  };
}
