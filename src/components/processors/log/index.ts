/** `log` processor: writes a log line per message (interpolated) and passes the message on. */
import { defineProcessor } from '../../../engine/component.js';
import type { LogLevel } from '../../../engine/logger.js';
import { field } from '../../../engine/spec.js';

export interface LogConfig {
  level: string;
  message: string;
  fields_mapping: string;
}

const LEVELS: Record<string, Exclude<LogLevel, 'off'>> = {
  FATAL: 'error', ERROR: 'error', WARN: 'warn', INFO: 'info', DEBUG: 'debug', TRACE: 'trace', ALL: 'trace',
};

export const spec = defineProcessor<LogConfig>({
  name: 'log',
  summary: 'Logs a message (interpolated per message) and passes the message on unchanged.',
  categories: ['Utility'],
  config: field.object('', '', [
    field.string('level', 'Log level.', { default: 'INFO', options: Object.keys(LEVELS) }),
    field.interp('message', 'The log message.', { default: '' }),
    field.bloblang('fields_mapping', 'A Bloblang mapping whose result (an object) is added to the log line as fields.', { default: '' }),
  ]),
  build: (conf, ctx) => {
    const level = LEVELS[conf.level.toUpperCase()] ?? 'info';
    const message = ctx.bloblang.interpolate(conf.message);
    const fields = conf.fields_mapping ? ctx.bloblang.compileMapping(conf.fields_mapping) : undefined;
    const log = ctx.logger;
    return {
      process(batch) {
        for (let i = 0; i < batch.length; i++) {
          let extra: Record<string, unknown> | undefined;
          if (fields) {
            try {
              const v = fields.query(batch, i);
              if (v && typeof v === 'object') extra = v as Record<string, unknown>;
            } catch (err) {
              log.error('log fields_mapping failed', { error: (err as Error).message });
            }
          }
          log[level](message.render(batch, i), extra);
        }
        return [batch];
      },
    };
  },
});
