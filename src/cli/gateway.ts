import { parseArgs } from 'node:util';
import { InvalidDesiredStateError, formatIssues } from '../../desired-state/errors.js';
import { gatewayConfigInput } from '../../desired-state/expand.js';
import { environmentNames, type EnvironmentNames } from '../../desired-state/naming.js';
import { NLB_LISTENER_QUOTA, nlbIndices, placeServices, type NlbPlacement } from '../../desired-state/placement.js';
import type { NlbHosts } from '../../reconcilers/gateway-config/generate.js';
import { parseDesiredState } from '../../desired-state/parse.js';
import { openSource } from '../source/source.js';
import type { DesiredState } from '../../desired-state/types.js';
import { describeInvalidGatewayConfig, renderGatewayConfig } from '../../reconcilers/gateway-config/render.js';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../aws/clients.js';
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

  const { placement, hosts } = values['nlb-dns'] !== undefined ? givenNlbHost(state, values['nlb-dns'], io) : await nlbHostsFromAws(state, io);
  const input = gatewayConfigInput(state, placement);
  let rendered;
  try {
    rendered = renderGatewayConfig({ bucket: '', prefix: '', input }, hosts);
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
export function placeholderNlbDnsName(state: DesiredState, index = 0): string {
  const env = state.environment;
  return `${environmentNames(env.name, env.spec.cluster.name).internalNlbAt(index)}.nlb.invalid`;
}

interface PlacedHosts {
  placement: NlbPlacement;
  hosts: NlbHosts;
}

/** The DNS names of the NLBs a placement uses, each from `known` or else a placeholder. */
function hostsFor(state: DesiredState, placement: NlbPlacement, known: (index: number) => string | undefined): NlbHosts {
  const others = nlbIndices(placement).filter((index) => index > 0);
  const host = (index: number): string => known(index) ?? placeholderNlbDnsName(state, index);
  return others.length === 0 ? { nlbDnsName: host(0) } : { nlbDnsName: host(0), otherNlbDnsNames: Object.fromEntries(others.map((index) => [String(index), host(index)])) };
}

/** `--nlb-dns`: the first NLB's name; Services beyond its 50 listeners get placeholders (said on stderr). */
function givenNlbHost(state: DesiredState, nlbDnsName: string, io: CliIo): PlacedHosts {
  const placement = placeServices(state.services);
  if (nlbIndices(placement).length > 1) io.stderr(`converge gateway render: more than ${NLB_LISTENER_QUOTA} Services sit behind several internal NLBs; --nlb-dns names the first, the others are placeholders\n`);
  return { placement, hosts: hostsFor(state, placement, (index) => (index === 0 ? nlbDnsName : undefined)) };
}

/** Where each Service sits and the NLBs' DNS names, read-only from AWS; placeholders (said on stderr) when that fails. */
async function nlbHostsFromAws(state: DesiredState, io: CliIo): Promise<PlacedHosts> {
  const env = state.environment;
  const names = environmentNames(env.name, env.spec.cluster.name);
  const fallback = (why: string): PlacedHosts => {
    const placement = placeServices(state.services);
    io.stderr(`converge gateway render: ${why}; using the placeholder ${placeholderNlbDnsName(state)} as backend host (pass --nlb-dns NAME for the real one)\n`);
    return { placement, hosts: hostsFor(state, placement, () => undefined) };
  };
  const aws = createAwsClients({ region: env.spec.region, maxAttempts: 1, requestTimeoutMs: LOOKUP_TIMEOUT_MS });
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), LOOKUP_TIMEOUT_MS);
  try {
    return await Promise.race([
      lookupNlbHosts(aws, state, names, io, fallback),
      new Promise<never>((_, reject) => timeout.signal.addEventListener('abort', () => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS / 1000}s`)))),
    ]);
  } catch (error) {
    return fallback(`cannot look up the internal NLB ${names.internalNlb} in ${env.spec.region} (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    clearTimeout(timer);
    destroyAwsClients(aws);
  }
}

async function lookupNlbHosts(aws: AwsClients, state: DesiredState, names: EnvironmentNames, io: CliIo, fallback: (why: string) => PlacedHosts): Promise<PlacedHosts> {
  // Loaded only for this lookup: with --nlb-dns, `gateway render` loads no AWS SDK client package.
  const { describeLoadBalancersByName } = await import('../aws/elbv2.js');
  const { readLivePlacement } = await import('../placement.js');
  const placement = placeServices(state.services, await readLivePlacement(aws, names));
  const wanted = nlbIndices(placement).map((index) => names.internalNlbAt(index));
  const found = new Map((await describeLoadBalancersByName(aws.elbv2, wanted)).map((lb) => [lb.name, lb.dnsName]));
  if (!found.get(names.internalNlb)) return fallback(`the internal NLB ${names.internalNlb} does not exist in ${state.environment.spec.region} yet`);
  const missing = wanted.filter((name) => !found.get(name));
  if (missing.length > 0) io.stderr(`converge gateway render: the internal NLB(s) ${missing.join(', ')} do not exist yet; placeholders stand in for them\n`);
  return { placement, hosts: hostsFor(state, placement, (index) => found.get(names.internalNlbAt(index)) || undefined) };
}
