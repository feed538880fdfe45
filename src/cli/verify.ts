/**
 * `converge verify [--source SRC] [--json]`: checks every workload against the account the way the
 * cycle's preflight checks one about to be deployed (src/preflight/), all at once, and writes
 * nothing. One line per problem (shared problems once, with the workloads they hold back) and one
 * per image or secret it could not verify. Exit 0 when nothing is wrong, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatIssues, InvalidDesiredStateError } from '../../desired-state/errors.js';
import type { ResolvedNetwork } from '../../desired-state/network.js';
import { describeAwsError } from '../aws/errors.js';
import { Controller } from '../controller.js';
import { createLogger } from '../log/logger.js';
import { Preflight, type WorkloadPreflight } from '../preflight/preflight.js';
import { resolveNetwork } from '../source/network.js';
import type { CliIo } from './io.js';

const USAGE = `Usage:
  converge verify [--source SRC] [--json]
      check every workload against the account before a deployment would: its images exist in ECR,
      its secrets exist, its roles exist and trust ECS tasks (and CodeDeploy), a given certificate is
      issued and covers its domain, the private subnets reach ECR, S3, CloudWatch Logs and Secrets
      Manager. Writes nothing. Exit 0 when nothing is wrong, 1 when something is (or the desired state
      cannot be read); images outside ECR are listed as not verified, never as problems.`;

/** A finding and the workloads it concerns, in the order first seen. */
export interface VerifyFinding {
  message: string;
  workloads: string[];
}

export interface VerifyReport {
  workloads: string[];
  problems: VerifyFinding[];
  notVerified: VerifyFinding[];
}

/** The workloads' results with each message once (an execution role is every workload's). */
export function verifyReport(results: readonly WorkloadPreflight[]): VerifyReport {
  const group = (pick: (r: WorkloadPreflight) => string[]): VerifyFinding[] => {
    const byMessage = new Map<string, VerifyFinding>();
    for (const r of results) {
      for (const message of pick(r)) {
        const finding = byMessage.get(message) ?? { message, workloads: [] };
        if (!finding.workloads.includes(r.workload)) finding.workloads.push(r.workload);
        byMessage.set(message, finding);
      }
    }
    return [...byMessage.values()];
  };
  return { workloads: results.map((r) => r.workload), problems: group((r) => r.problems), notVerified: group((r) => r.notes) };
}

export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    ...report.problems.map((f) => `problem: ${f.workloads.join(', ')}: ${f.message}`),
    ...report.notVerified.map((f) => `not verified: ${f.workloads.join(', ')}: ${f.message}`),
  ];
  const notes = report.notVerified.length > 0 ? `, ${report.notVerified.length} not verified` : '';
  lines.push(
    report.problems.length === 0
      ? `verify: all checks passed for ${report.workloads.length} workload(s)${notes}`
      : `verify: ${report.problems.length} problem(s) in ${new Set(report.problems.flatMap((f) => f.workloads)).size} of ${report.workloads.length} workload(s)${notes}`,
  );
  return `${lines.join('\n')}\n`;
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { source: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const source = values.source ?? process.env.CONVERGE_SOURCE;
  if (source === undefined || source === '') {
    io.stderr(`converge verify: no desired state source: pass --source s3://bucket/prefix or a folder, or set CONVERGE_SOURCE\n\n${USAGE}\n`);
    return 1;
  }
  // Logs (the loader's) go to stderr: stdout holds the findings.
  const log = createLogger({ destination: pino.destination({ dest: 2, sync: true }) });
  const controller = new Controller({ source, log });
  try {
    const loaded = await controller.load(log);
    if (!loaded.valid || loaded.invalid) {
      io.stderr(`${formatIssues(loaded.invalid?.issues ?? [])}\n`);
      return 1;
    }
    const state = loaded.valid.state;
    const region = state.environment.spec.region;
    let network: ResolvedNetwork;
    try {
      network = await resolveNetwork(state.environment, controller.clientsFor(region));
    } catch (error) {
      if (error instanceof InvalidDesiredStateError) {
        io.stderr(`${formatIssues(error.issues)}\n`);
        return 1;
      }
      io.stderr(`converge verify: resolve the network references: ${describeAwsError(error)}\n`);
      return 1;
    }
    const preflight = new Preflight({ clientsFor: (r) => controller.clientsFor(r) });
    const report = verifyReport(await preflight.checkAll({ state, network }));
    io.stdout(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report));
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    controller.close();
  }
}
