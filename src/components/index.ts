/**
 * Every built-in component. The app's wiring (src/cli) registers this list; add a component by
 * adding its folder and one line here.
 */
import type { ComponentKind, ComponentSpec } from '../engine/component.js';
import { spec as httpServerInput } from './inputs/http_server/index.js';
import { spec as stdinInput } from './inputs/stdin/index.js';
import { spec as httpServerOutput } from './outputs/http_server/index.js';
import { spec as stdoutOutput } from './outputs/stdout/index.js';
import { spec as dropOutput } from './outputs/drop/index.js';
import { spec as rejectOutput } from './outputs/reject/index.js';
import { spec as syncResponseOutput } from './outputs/sync_response/index.js';
import { spec as brokerOutput } from './outputs/broker/index.js';
import { spec as logProcessor } from './processors/log/index.js';
import { spec as noopProcessor } from './processors/noop/index.js';
import { spec as catchProcessor } from './processors/catch/index.js';
import { spec as tryProcessor } from './processors/try/index.js';
import { spec as syncResponseProcessor } from './processors/sync_response/index.js';
import { spec as natsInput } from './inputs/nats/index.js';
import { spec as natsJetStreamInput } from './inputs/nats_jetstream/index.js';
import { spec as natsOutput } from './outputs/nats/index.js';
import { spec as natsJetStreamOutput } from './outputs/nats_jetstream/index.js';
import { spec as natsKvInput } from './inputs/nats_kv/index.js';
import { spec as natsKvOutput } from './outputs/nats_kv/index.js';
import { spec as natsKvProcessor } from './processors/nats_kv/index.js';
import { spec as natsKvCache } from './caches/nats_kv/index.js';
import { spec as redisStreamsInput } from './inputs/redis_streams/index.js';
import { spec as redisPubSubInput } from './inputs/redis_pubsub/index.js';
import { spec as redisListInput } from './inputs/redis_list/index.js';
import { spec as redisStreamsOutput } from './outputs/redis_streams/index.js';
import { spec as redisPubSubOutput } from './outputs/redis_pubsub/index.js';
import { spec as redisListOutput } from './outputs/redis_list/index.js';
import { spec as cacheProcessor } from './processors/cache/index.js';
import { spec as memoryCache } from './caches/memory/index.js';
import { spec as redisCache } from './caches/redis/index.js';
import { spec as localRateLimit } from './rate_limits/local/index.js';
import { spec as mqttInput } from './inputs/mqtt/index.js';
import { spec as mqttOutput } from './outputs/mqtt/index.js';
import { spec as amqp09Input } from './inputs/amqp_0_9/index.js';
import { spec as amqp09Output } from './outputs/amqp_0_9/index.js';
import { spec as amqp1Input } from './inputs/amqp_1/index.js';
import { spec as amqp1Output } from './outputs/amqp_1/index.js';
import { spec as generateInput } from './inputs/generate/index.js';
import { spec as mappingProcessor } from './processors/mapping/index.js';
import { spec as bloblangProcessor } from './processors/bloblang/index.js';
import { spec as mutationProcessor } from './processors/mutation/index.js';
import { spec as switchProcessor } from './processors/switch/index.js';
import { spec as whileProcessor } from './processors/while/index.js';
import { spec as dedupeProcessor } from './processors/dedupe/index.js';
import { spec as rateLimitProcessor } from './processors/rate_limit/index.js';
import { spec as switchOutput } from './outputs/switch/index.js';
import { spec as fallbackOutput } from './outputs/fallback/index.js';
import { spec as kafkaInput } from './inputs/kafka/index.js';
import { spec as kafkaFranzInput } from './inputs/kafka_franz/index.js';
import { spec as kafkaOutput } from './outputs/kafka/index.js';
import { spec as kafkaFranzOutput } from './outputs/kafka_franz/index.js';
import { spec as httpClientInput } from './inputs/http_client/index.js';
import { spec as httpClientOutput } from './outputs/http_client/index.js';
import { spec as webhookOutput } from './outputs/webhook/index.js';
import { spec as websocketInput } from './inputs/websocket/index.js';
import { spec as websocketOutput } from './outputs/websocket/index.js';
import { spec as httpProcessor } from './processors/http/index.js';
import { spec as avroProcessor } from './processors/avro/index.js';
import { spec as jsonSchemaProcessor } from './processors/json_schema/index.js';
import { spec as xmlProcessor } from './processors/xml/index.js';
import { spec as sqlSelectProcessor } from './processors/sql_select/index.js';
import { spec as sqlRawProcessor } from './processors/sql_raw/index.js';
import { spec as branchProcessor } from './processors/branch/index.js';

type AnySpec = ComponentSpec<ComponentKind, never>;
const s = <K extends ComponentKind, C>(spec: ComponentSpec<K, C>): AnySpec => spec as unknown as AnySpec;

export const builtinComponents: readonly AnySpec[] = [
  // inputs
  s(httpServerInput),
  s(stdinInput),
  s(kafkaInput),
  s(kafkaFranzInput),
  s(generateInput),
  s(natsInput),
  s(natsJetStreamInput),
  s(natsKvInput),
  s(redisStreamsInput),
  s(redisPubSubInput),
  s(redisListInput),
  s(mqttInput),
  s(amqp09Input),
  s(amqp1Input),
  s(httpClientInput),
  s(websocketInput),
  // processors
  s(httpProcessor),
  s(avroProcessor),
  s(jsonSchemaProcessor),
  s(xmlProcessor),
  s(sqlSelectProcessor),
  s(sqlRawProcessor),
  s(logProcessor),
  s(noopProcessor),
  s(catchProcessor),
  s(tryProcessor),
  s(syncResponseProcessor),
  s(cacheProcessor),
  s(natsKvProcessor),
  s(mappingProcessor),
  s(branchProcessor),
  s(bloblangProcessor),
  s(mutationProcessor),
  s(switchProcessor),
  s(whileProcessor),
  s(dedupeProcessor),
  s(rateLimitProcessor),
  // outputs
  s(httpClientOutput),
  s(webhookOutput),
  s(websocketOutput),
  s(httpServerOutput),
  s(stdoutOutput),
  s(dropOutput),
  s(rejectOutput),
  s(syncResponseOutput),
  s(brokerOutput),
  s(kafkaOutput),
  s(kafkaFranzOutput),
  s(switchOutput),
  s(fallbackOutput),
  s(natsOutput),
  s(natsJetStreamOutput),
  s(natsKvOutput),
  s(redisStreamsOutput),
  s(redisPubSubOutput),
  s(redisListOutput),
  s(mqttOutput),
  s(amqp09Output),
  s(amqp1Output),
  // caches
  s(memoryCache),
  s(redisCache),
  s(natsKvCache),
  // rate limits
  s(localRateLimit),
];
