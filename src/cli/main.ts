// Only node:util and types at the top: each command imports what it needs (the desired-state
// parser, pino, the controller with every AWS SDK client package), so that `--help` and
// `--version` load almost nothing and `validate` no AWS SDK (test/unit/cli/lazy-sdk.test.ts).
import { parseArgs } from 'node:util';
import type { CycleSummary } from '../controller.js';
import type { Logger } from '../log/logger.js';
import type { CliIo } from './io.js';
import type { WaitController } from './wait.js';

const USAGE = `converge — keeps an ECS Fargate environment converged to its desired state

Usage:
  converge validate [--source SRC]                 load and validate only; no AWS call
  converge plan     [--source SRC] [--format text|json|markdown]
                                                   read-only pass: every change and drift (exit 0 none, 2 pending, 1 error);
                                                   json and markdown on stdout (--json is --format json), text on stderr
  converge apply    [--source SRC] [--wait] [--force] [--allow-mass-prune]
                                                   passes that make the changes (exit 0 converged, 1 error, 3 still progressing);
                                                   takes the writer lease, refused while a daemon holds it unless --force;
                                                   --allow-mass-prune: a prune past reconcile.maxPruneShare goes ahead
  converge destroy  [--source SRC] [--yes] [--force]
                                                   delete everything the environment owns, in reverse order (exit 0 done,
                                                   2 plan only: without --yes it prints what it would delete, 1 error)
  converge run      [--source SRC] [--interval 60s] [--listen 0.0.0.0:8080]
                                                   the daemon; exits 0 on SIGTERM after in-flight calls
  converge gateway render [--source SRC] [--nlb-dns NAME]
                                                   print the KrakenD configuration the desired state generates
  converge iam-policy [--source SRC]               print the least-privilege IAM policy for converge's task role
  converge verify   [--source SRC] [--json]        check images, secrets, roles, certificates and routes in the account (exit 0 ok, 1 problems)
  converge status   [--source SRC] [--json]        the status the daemon last wrote beside the desired state (exit 1: none)
  converge publish  --source DIR --to s3://bucket/prefix [--revision R] [--message M]
                                                   validate DIR, upload what changed, delete what left, then write the
                                                   manifest a daemon waits for (exit 0 published, 1 invalid or failed)
  converge --version                               the version and the git revision it was built from, when known

SRC is s3://bucket/prefix or a local folder. Flags also read CONVERGE_SOURCE, CONVERGE_INTERVAL,
CONVERGE_LISTEN, CONVERGE_TRIGGER_TOKEN (or CONVERGE_TRIGGER_TOKEN_FILE), CONVERGE_LOG_LEVEL.
AWS settings come from the standard SDK chain (AWS_REGION, credentials, AWS_ENDPOINT_URL).
Log events are JSON lines on stdout; with --json or --format markdown, stdout holds only the plan and logs go to stderr.`;

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function sourceOf(values: { source?: string }): string {
  const source = values.source ?? process.env.CONVERGE_SOURCE;
  if (!source) throw new UsageError('no desired state source: pass --source s3://bucket/prefix or a folder, or set CONVERGE_SOURCE');
  return source;
}

class UsageError extends Error {}

/** Runs one CLI command and returns its exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(`${USAGE}\n`);
    return command ? 0 : 1;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    const { versionText } = await import('./version.js');
    io.stdout(`${versionText()}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'validate':
        return await validate(rest, io);
      case 'plan':
      case 'apply':
        return await planOrApply(command, rest, io);
      case 'run': {
        const { runDaemon } = await import('../daemon/run.js');
        return await runDaemon(rest);
      }
      case 'gateway': {
        const { gatewayCommand } = await import('./gateway.js');
        return await gatewayCommand(rest, io);
      }
      case 'destroy': {
        const { destroyCommand } = await import('./destroy.js');
        return await destroyCommand(rest, io);
      }
      case 'iam-policy': {
        const { iamPolicyCommand } = await import('./iam-policy.js');
        return await iamPolicyCommand(rest, io);
      }
      case 'publish': {
        const { publishCommand } = await import('./publish.js');
        return await publishCommand(rest, io);
      }
      case 'verify': {
        const { verifyCommand } = await import('./verify.js');
        return await verifyCommand(rest, io);
      }
      case 'status': {
        const { statusCommand } = await import('./status.js');
        return await statusCommand(rest, io);
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr(`converge: ${error.message}\n\n${USAGE}\n`);
      return 1;
    }
    io.stderr(`converge: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function validate(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { source: { type: 'string' } }, strict: true });
  const [{ InvalidDesiredStateError, formatIssues }, { credentialWarnings }, { parseDesiredState }, { openSource }, { createAwsClients }] = await Promise.all([
    import('../../desired-state/errors.js'),
    import('../../desired-state/credential-names.js'),
    import('../../desired-state/parse.js'),
    import('../source/source.js'),
    import('../aws/clients.js'),
  ]);
  const aws = createAwsClients();
  const source = openSource(sourceOf(values), () => aws.s3);
  const { revision, files } = await source.load();
  try {
    const state = parseDesiredState(files, revision);
    io.stderr(`valid: ${source.description} revision ${revision}: Environment ${state.environment.name}, ${state.services.length} service(s), gateway ${state.gateway.name}, frontend ${state.frontend.name}\n`);
    // Warnings do not make the desired state invalid (exit 0); `plan` and the daemon repeat them.
    for (const warning of credentialWarnings(state)) io.stderr(`warning: ${warning}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof InvalidDesiredStateError)) throw error;
    const { createLogger } = await import('../log/logger.js');
    createLogger().error({ event: 'invalid-desired-state', revision, errors: error.issues }, 'desired state is invalid');
    io.stderr(`${formatIssues(error.issues)}\n`);
    return 1;
  }
}

async function planOrApply(mode: 'plan' | 'apply', args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      source: { type: 'string' },
      json: { type: 'boolean', default: false },
      format: { type: 'string' },
      wait: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'allow-mass-prune': { type: 'boolean', default: false },
      artifacts: { type: 'string' },
    },
    strict: true,
  });
  if (values.force === true && mode !== 'apply') throw new UsageError('--force applies to apply only (plan never writes)');
  if (values['allow-mass-prune'] === true && mode !== 'apply') throw new UsageError('--allow-mass-prune applies to apply only');
  const [{ pino }, { createLogger }, { formatPlan, formatPlanMarkdown, planFormat, planJson }] = await Promise.all([
    import('pino'),
    import('../log/logger.js'),
    import('./format.js'),
  ]);
  const chosen = planFormat(values.format, values.json === true);
  if ('error' in chosen) throw new UsageError(chosen.error);
  const format = chosen.format;
  // json and markdown: stdout holds only the document, the logs go to stderr.
  const json = format !== 'text';
  const log: Logger = createLogger(json ? { destination: pino.destination({ dest: 2, sync: true }) } : {});
  const source = sourceOf(values);
  // Loaded here, not at the top: the controller imports every reconciler and AWS SDK client package,
  // which `validate`, `--help` and `--version` do without (test/unit/cli/lazy-sdk.test.ts).
  const { Controller } = await import('../controller.js');
  const controller = new Controller({ source, log, artifacts: values.artifacts });
  const report = (summary: CycleSummary): void => {
    if (format === 'markdown') io.stdout(`${formatPlanMarkdown(summary)}\n`);
    else if (json) io.stdout(`${JSON.stringify(planJson(summary), null, 2)}\n`);
    else io.stderr(`${formatPlan(summary)}\n`);
  };
  if (mode === 'plan') {
    const summary = await controller.runCycle({ mode, trigger: 'manual' });
    report(summary);
    if (summary.outcome === 'invalid' || summary.outcome === 'error') return 1;
    return summary.pending > 0 ? 2 : 0;
  }
  // `apply` writes only as the holder of the writer lease (a daemon holding it refuses it, unless --force).
  const { withApplyLease, LeaseRefusedError } = await import('./lease.js');
  try {
    return await withApplyLease(source, { force: values.force === true, log, io }, () =>
      applyCommand(
        { runCycle: (input) => controller.runCycle({ ...input, allowMassPrune: values['allow-mass-prune'] === true }) },
        values.wait === true,
        json,
        io,
        report,
      ),
    );
  } catch (error) {
    if (!(error instanceof LeaseRefusedError)) throw error;
    io.stderr(`converge apply: ${error.message}\n`);
    return 1;
  }
}

/** `apply`: passes while they make progress, or with --wait until deployments end; with --json stdout holds only the last pass's document. */
async function applyCommand(controller: WaitController, wait: boolean, json: boolean, io: CliIo, report: (summary: CycleSummary) => void): Promise<number> {
  const { applyPasses, waitForDeployments } = await import('./wait.js');
  let last: CycleSummary | undefined;
  const onPass = (summary: CycleSummary): void => {
    last = summary;
    if (!json) report(summary);
  };
  let exitCode: number;
  if (wait) {
    const first = await controller.runCycle({ mode: 'apply', trigger: 'manual' });
    onPass(first);
    const tracked = {
      runCycle: async (input: { mode: 'apply'; trigger: 'manual' }): Promise<CycleSummary> => {
        last = await controller.runCycle(input);
        return last;
      },
    };
    exitCode = first.outcome === 'invalid' ? 1 : (await waitForDeployments(tracked, first, io)) ? 0 : 1;
  } else {
    exitCode = (await applyPasses(controller, io, { onPass })).exitCode;
  }
  if (json && last) report(last);
  return exitCode;
}
