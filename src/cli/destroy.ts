/**
 * `converge destroy --source SRC [--yes] [--force]`: deletes everything the environment owns (the
 * resources tagged `converge:environment` = its name), in reverse dependency order, and says what
 * it left. Without `--yes` it only prints what it would delete and exits 2. It takes the writer
 * lease like `apply` (a daemon holding it refuses it, unless --force): stop the daemon first, or
 * it would create everything again at its next cycle.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { CycleSummary } from '../controller.js';
import { Controller } from '../controller.js';
import { createLogger } from '../log/logger.js';
import type { ResourceResult } from '../engine/engine.js';
import type { CliIo } from './io.js';
import { LeaseRefusedError, withApplyLease } from './lease.js';
import { waitSettingsFromEnv } from './wait.js';

const USAGE = `Usage: converge destroy [--source SRC] [--yes] [--force]

Deletes every AWS resource the environment owns (tagged converge:environment=<name>), in reverse
dependency order. Log groups are kept unless the Environment sets reconcile.pruneLogs: true.
Without --yes: prints what it would delete and exits 2. Exit 0: nothing owned is left (but what
is listed as kept), 1: an error, or something could not be deleted.`;

/** Passes while deletes wait on something still in use (a draining service holds its target groups). */
const MAX_PASSES = 30;

const line = (r: ResourceResult): string => `  - delete ${r.resource} (${r.kind} ${r.name})${r.state === 'InSync' ? '' : `: ${r.message ?? r.state}`}`;

export async function destroyCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { source: { type: 'string' }, yes: { type: 'boolean', default: false }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const source = values.source ?? process.env.CONVERGE_SOURCE;
  if (!source) {
    io.stderr(`converge destroy: no desired state source: pass --source s3://bucket/prefix or a folder, or set CONVERGE_SOURCE\n\n${USAGE}\n`);
    return 1;
  }
  const log = createLogger();
  const controller = new Controller({ source, log });
  try {
    if (values.yes !== true) {
      const plan = await controller.runCycle({ mode: 'plan', trigger: 'manual', destroy: true });
      if (plan.outcome === 'invalid' || plan.outcome === 'error' || plan.revision === undefined) {
        io.stderr(`converge destroy: ${plan.warnings.at(-1) ?? plan.outcome}\n`);
        return 1;
      }
      const deletes = plan.resources.filter((r) => r.changes.some((c) => c.action === 'delete'));
      io.stderr(`converge destroy would delete ${deletes.length} resource(s) of this environment:\n${deletes.map(line).join('\n')}\n`);
      report(plan, io);
      io.stderr('nothing deleted: run again with --yes to delete them\n');
      return 2;
    }
    return await withApplyLease(source, { force: values.force === true, log, io }, () => destroyPasses(controller, io));
  } catch (error) {
    if (!(error instanceof LeaseRefusedError)) throw error;
    io.stderr(`converge destroy: ${error.message}\n`);
    return 1;
  } finally {
    controller.close();
  }
}

async function destroyPasses(controller: Controller, io: CliIo): Promise<number> {
  const { pollMs } = waitSettingsFromEnv();
  let deleted = 0;
  for (let pass = 1; pass <= MAX_PASSES; pass += 1) {
    const summary = await controller.runCycle({ mode: 'apply', trigger: 'manual', destroy: true });
    if (summary.outcome === 'invalid' || summary.revision === undefined) {
      io.stderr(`converge destroy: ${summary.warnings.at(-1) ?? summary.outcome}\n`);
      return 1;
    }
    const done = summary.resources.filter((r) => r.state === 'InSync');
    deleted += done.length;
    for (const r of done) io.stderr(`${line(r)}: deleted\n`);
    const waiting = summary.resources.filter((r) => r.state === 'Progressing');
    const failed = summary.resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict');
    if (failed.length > 0) {
      for (const r of failed) io.stderr(`failed: ${line(r)}\n`);
      report(summary, io);
      return 1;
    }
    if (summary.resources.length === 0 || (waiting.length === 0 && done.length === 0)) {
      io.stderr(`converge destroy: deleted ${deleted} resource(s); nothing the environment owns is left but what is listed here\n`);
      report(summary, io);
      return summary.prune?.unknown.length || summary.prune?.unsupported.length ? 1 : 0;
    }
    if (waiting.length > 0 && done.length === 0) {
      for (const r of waiting) io.stderr(`  waiting: ${r.resource}: ${r.message ?? ''}\n`);
      await sleep(pollMs);
    }
  }
  io.stderr(`converge destroy: gave up after ${MAX_PASSES} passes; run it again\n`);
  return 1;
}

/** What destroy leaves on purpose or could not see. */
function report(summary: CycleSummary, io: CliIo): void {
  for (const kept of summary.prune?.kept ?? []) io.stderr(`  kept: ${kept} (log groups stay unless reconcile.pruneLogs: true)\n`);
  for (const type of summary.prune?.unknown ?? []) io.stderr(`  not listed: ${type} (its inventory failed; nothing of it was deleted)\n`);
  for (const type of summary.prune?.unsupported ?? []) io.stderr(`  left: every ${type} the environment owns (converge does not delete this type yet)\n`);
  io.stderr('  resources without this environment\'s ownership tag are never deleted\n');
}
