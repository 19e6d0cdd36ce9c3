/**
 * The durable schema, as numbered migrations. The same SQL runs on the embedded PGlite store and
 * on PostgreSQL. Migrations only ever get appended: a released migration is never edited.
 *
 * All tables live in one schema (default `sluice`), chosen per connection with `search_path`,
 * so the SQL below never names it.
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'apis, policies, keys, users, subscriptions',
    sql: `
      -- Stream APIs: the Tyk OAS document as posted (x-tyk-api-gateway + x-tyk-streaming).
      CREATE TABLE apis (
        id          text PRIMARY KEY,
        document    jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );

      -- Tyk policies (the policy JSON).
      CREATE TABLE policies (
        id          text PRIMARY KEY,
        policy      jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );

      -- Keys, by hash only (sha256 hex of the key); the value is the Tyk session JSON as stored
      -- (basic-auth passwords already hashed with scrypt). The plaintext key is never stored.
      CREATE TABLE keys (
        key_hash    text PRIMARY KEY,
        session     jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );

      -- For the developer portal (later): people, and which API/plan each one subscribed to.
      CREATE TABLE users (
        id             text PRIMARY KEY,
        email          text UNIQUE,
        password_hash  text,
        profile        jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE subscriptions (
        id          text PRIMARY KEY,
        user_id     text REFERENCES users(id) ON DELETE CASCADE,
        api_id      text NOT NULL,
        policy_id   text,
        key_hash    text,
        status      text NOT NULL DEFAULT 'active',
        config      jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX subscriptions_user ON subscriptions (user_id);
      CREATE INDEX subscriptions_api ON subscriptions (api_id);
    `,
  },
];

export const latestVersion = migrations.reduce((m, x) => Math.max(m, x.version), 0);

/** Run before any migration, so the bookkeeping table exists. */
export const bootstrapSql = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  );
`;

/** A schema name is spliced into SQL (it cannot be a parameter), so only plain identifiers pass. */
export function checkSchemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid schema name ${JSON.stringify(name)}: use lower-case letters, digits and _`);
  return name;
}
