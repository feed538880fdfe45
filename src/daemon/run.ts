import { pino, type DestinationStream } from 'pino';
import { Controller } from '../controller.js';
import { leaseForSource } from '../lease/for-source.js';
import { createLogger, type Logger } from '../log/logger.js';
import { ConvergeMetrics } from '../metrics.js';
import { DAEMON_USAGE, DaemonUsageError, resolveDaemonSettings, type DaemonSettings } from './config.js';
import { Daemon, type DaemonAddress } from './daemon.js';
import { formatDuration } from '../util/duration.js';
import { formatListenAddress } from './listen.js';
import { attachCycleReporting, type CycleReporting } from './reporting.js';
import { loadTriggerToken, TriggerTokenError } from './token.js';

export interface StartDaemonOptions extends DaemonSettings {
  log: Logger;
  triggerToken?: string;
  /** Export the Node.js process metrics too (the CLI does; tests and the demo may not). */
  processMetrics?: boolean;
}

export interface RunningDaemon {
  daemon: Daemon;
  controller: Controller;
  address: DaemonAddress;
  /** Releases the AWS clients (the controller's and the lease's), after `daemon.stop()`. */
  readonly close: () => void;
}

/** Builds the one Controller the daemon keeps for its life, and the daemon around it (not started). */
export function createDaemon(options: StartDaemonOptions): { daemon: Daemon; controller: Controller; reporting: CycleReporting; close: () => void } {
  const controller = new Controller({ source: options.source, log: options.log, artifacts: options.artifacts, parseOffThread: true });
  const lease = leaseForSource(options.source, { durationMs: options.leaseDurationMs, log: options.log, holderKind: 'daemon' });
  const daemon = new Daemon(
    controller,
    {
      intervalMs: options.intervalMs,
      watchIntervalMs: options.watchIntervalMs,
      cycleTimeoutMs: options.cycleTimeoutMs,
      shutdownTimeoutMs: options.shutdownTimeoutMs,
      listen: options.listen,
      triggerToken: options.triggerToken,
      lease: lease.lease,
      noLeaseReason: lease.reason,
    },
    options.log,
    new ConvergeMetrics({ defaultMetrics: options.processMetrics ?? false }),
  );
  // After each cycle: the status document beside the desired state, and notifications (src/daemon/reporting.ts).
  const reporting = attachCycleReporting(daemon, controller, { source: options.source, lease: lease.lease, log: options.log });
  return {
    daemon,
    controller,
    reporting,
    close: () => {
      reporting.close();
      controller.close();
      lease.close();
    },
  };
}

/** Creates the daemon, binds the endpoints and starts the startup cycle. */
export async function startDaemon(options: StartDaemonOptions): Promise<RunningDaemon> {
  const { daemon, controller, close } = createDaemon(options);
  const address = await daemon.start();
  return { daemon, controller, address, close };
}

/** stdout for pino that can be shut, so that nothing is written after the `shutdown` event. */
function closableStdout(): { stream: DestinationStream; close(): void } {
  const out = pino.destination({ dest: 1, sync: true });
  let open = true;
  return {
    stream: {
      write(line: string) {
        if (open) out.write(line);
      },
    },
    close() {
      if (!open) return;
      open = false;
      out.flushSync();
    },
  };
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** `converge run`: the daemon until SIGTERM or SIGINT; resolves with the exit code. */
export async function runDaemon(args: string[]): Promise<number> {
  let settings: DaemonSettings;
  try {
    const resolved = resolveDaemonSettings(args, process.env);
    if (resolved === 'help') {
      process.stdout.write(`${DAEMON_USAGE}\n`);
      return 0;
    }
    settings = resolved;
  } catch (error) {
    if (!(error instanceof DaemonUsageError)) throw error;
    process.stderr.write(`converge run: ${error.message}\n\n${DAEMON_USAGE}\n`);
    return 1;
  }

  const output = closableStdout();
  const log = createLogger({ destination: output.stream });
  let token: Awaited<ReturnType<typeof loadTriggerToken>>;
  try {
    token = await loadTriggerToken(process.env);
  } catch (error) {
    if (!(error instanceof TriggerTokenError)) throw error;
    log.error({ event: 'error' }, error.message);
    output.close();
    return 1;
  }
  if (token.warning) log.warn({ event: 'warning' }, token.warning);

  log.info(
    {
      event: 'starting',
      source: settings.source,
      interval: formatDuration(settings.intervalMs),
      watchInterval: formatDuration(settings.watchIntervalMs),
      cycleTimeout: formatDuration(settings.cycleTimeoutMs),
      listen: formatListenAddress(settings.listen),
      triggerTokenFrom: token.origin ?? 'none',
    },
    'converge daemon starting',
  );

  const { daemon, close } = createDaemon({ ...settings, log, triggerToken: token.token, processMetrics: true });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      void daemon.stop(signal);
      return;
    }
    // A second signal means the operator will not wait for in-flight calls.
    log.warn({ event: 'shutdown', reason: signal, forced: true }, 'second signal: exiting without waiting');
    output.close();
    process.exit(1);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    await daemon.start();
  } catch (error) {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    if (signals > 0) {
      await daemon.stopped;
      output.close();
      return 0;
    }
    log.error({ event: 'error', err: { message: (error as Error).message } }, `cannot start the daemon: ${(error as Error).message}`);
    await daemon.stop('startup failed');
    output.close();
    return 1;
  }
  await daemon.stopped;
  for (const signal of SIGNALS) process.off(signal, onSignal);
  output.close();
  close();
  // Calls still in flight after the shutdown timeout were aborted; should anything else (a timer, a
  // socket) still hold the event loop, it does not keep the process.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
  return 0;
}
