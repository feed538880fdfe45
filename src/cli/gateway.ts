import { parseArgs } from 'node:util';
import { InvalidDesiredStateError, formatIssues } from '../../desired-state/errors.js';
import { gatewayConfigInput } from '../../desired-state/expand.js';
import { environmentNames } from '../../desired-state/naming.js';
import { parseDesiredState } from '../../desired-state/parse.js';
import { openSource } from '../source/source.js';
import type { DesiredState } from '../../desired-state/types.js';
import { describeInvalidGatewayConfig, renderGatewayConfig } from '../../reconcilers/gateway-config/index.js';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../aws/clients.js';
import { describeLoadBalancersByName } from '../aws/elbv2.js';
import type { CliIo } from './io.js';

const USAGE = `Usage:
  converge gateway render [--source SRC] [--nlb-dns NAME]
      print the KrakenD configuration the desired state generates (exit 0, or 1 invalid)

--nlb-dns is the internal NLB's DNS name, the host of every backend. Without it converge looks
the NLB up in AWS (read-only); when that fails it uses a placeholder and says so on stderr.`;

/** How long the read-only NLB lookup may take before the placeholder is used. */
const LOOKUP_TIMEOUT_MS = 10_000;

export async function gatewayCommand(args: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
    io.stdout(`${USAGE}\n`);
    return subcommand === undefined ? 1 : 0;
  }
  if (subcommand !== 'render') {
    io.stderr(`converge gateway: unknown subcommand "${subcommand}"\n\n${USAGE}\n`);
    return 1;
  }
  return render(rest, io);
}

async function render(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { source: { type: 'string' }, 'nlb-dns': { type: 'string' } }, strict: true });
  const sourceSpec = values.source ?? process.env.CONVERGE_SOURCE;
  if (!sourceSpec) {
    io.stderr(`converge gateway render: no desired state source: pass --source s3://bucket/prefix or a folder, or set CONVERGE_SOURCE\n`);
    return 1;
  }
  const aws = createAwsClients();
  let state: DesiredState;
  try {
    const source = openSource(sourceSpec, () => aws.s3);
    const { revision, files } = await source.load();
    state = parseDesiredState(files, revision);
  } catch (error) {
    if (!(error instanceof InvalidDesiredStateError)) throw error;
    io.stderr(`${formatIssues(error.issues)}\n`);
    return 1;
  } finally {
    destroyAwsClients(aws);
  }

  const nlbDnsName = values['nlb-dns'] ?? (await nlbDnsNameFromAws(state, io));
  const input = gatewayConfigInput(state);
  let rendered;
  try {
    rendered = renderGatewayConfig({ bucket: '', prefix: '', input }, nlbDnsName);
  } catch (error) {
    io.stderr(`converge gateway render: cannot generate the KrakenD configuration: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (rendered.errors.length > 0) {
    io.stderr(`${describeInvalidGatewayConfig(rendered.errors, input)}\n`);
    return 1;
  }
  io.stdout(rendered.body);
  io.stderr(`sha256 ${rendered.hash}: published as <artifacts prefix>.converge/gateway/${input.environment}/${rendered.hash}.json\n`);
  return 0;
}

/** A name that is obviously not a real host (RFC 2606 `.invalid`). */
export function placeholderNlbDnsName(state: DesiredState): string {
  const env = state.environment;
  return `${environmentNames(env.name, env.spec.cluster.name).internalNlb}.nlb.invalid`;
}

/** The internal NLB's DNS name, read-only from AWS; the placeholder (said on stderr) when that fails. */
async function nlbDnsNameFromAws(state: DesiredState, io: CliIo): Promise<string> {
  const env = state.environment;
  const nlbName = environmentNames(env.name, env.spec.cluster.name).internalNlb;
  const placeholder = placeholderNlbDnsName(state);
  const fallback = (why: string): string => {
    io.stderr(`converge gateway render: ${why}; using the placeholder ${placeholder} as backend host (pass --nlb-dns NAME for the real one)\n`);
    return placeholder;
  };
  const aws = createAwsClients({ region: env.spec.region, maxAttempts: 1, requestTimeoutMs: LOOKUP_TIMEOUT_MS });
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), LOOKUP_TIMEOUT_MS);
  try {
    const found = await Promise.race([
      lookupLoadBalancerDnsName(aws, nlbName),
      new Promise<never>((_, reject) => timeout.signal.addEventListener('abort', () => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS / 1000}s`)))),
    ]);
    return found ?? fallback(`the internal NLB ${nlbName} does not exist in ${env.spec.region} yet`);
  } catch (error) {
    return fallback(`cannot look up the internal NLB ${nlbName} in ${env.spec.region} (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    clearTimeout(timer);
    destroyAwsClients(aws);
  }
}

async function lookupLoadBalancerDnsName(aws: AwsClients, name: string): Promise<string | undefined> {
  const found = await describeLoadBalancersByName(aws.elbv2, [name]);
  return found.find((lb) => lb.name === name)?.dnsName || undefined;
}
