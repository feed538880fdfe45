import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface LogEvent {
  level: string;
  event?: string;
  msg?: string;
  [key: string]: unknown;
}

/** A root logger whose JSON lines are parsed into `events`, for assertions on log events. */
export function captureLogs(): { log: Logger; events: LogEvent[]; ofEvent: (name: string) => LogEvent[] } {
  const events: LogEvent[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') events.push(JSON.parse(line) as LogEvent);
      callback();
    },
  });
  const log = createLogger({ level: 'debug', destination: stream });
  return { log, events, ofEvent: (name) => events.filter((e) => e.event === name) };
}
