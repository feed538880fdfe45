/**
 * converge, locally, with nothing but Node and Python: starts the AWS emulator, seeds it with
 * desired-state/examples/shop, and runs the daemon in this process on 127.0.0.1.
 *
 *   npm run demo                       # runs until Ctrl-C
 *   node dist/scripts/demo.js --once   # applies, exits 0 once converged (smoke test)
 *
 * From empty, the first cycle leaves the HTTPS listeners waiting for their certificates (the
 * emulator issues them a few seconds later), so `--once` applies until a cycle converges, at
 * most ONCE_DEADLINE_MS.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CycleSummary } from '../src/controller.js';
import { parseDuration } from '../src/util/duration.js';
import { startDaemon, type RunningDaemon } from '../src/daemon/run.js';
import { createLogger } from '../src/log/logger.js';
import { startMoto, type MotoServer } from './moto.js';
import { seedEnvironment, type SeedResult } from './seed.js';

const DEMO_PORT = 8080;
const ONCE_DEADLINE_MS = 120_000;
/** Seconds until the emulator issues a requested certificate (AWS takes minutes; moto's default is 60). */
const CERTIFICATE_WAIT_SECONDS = '3';

/** The checkout: the nearest folder above this file (scripts/ or dist/scripts/) with a package.json. */
export function findRepoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

function say(text = ''): void {
  process.stderr.write(`${text}\n`);
}

async function startLocalDaemon(options: Omit<Parameters<typeof startDaemon>[0], 'listen'>, port: number): Promise<RunningDaemon> {
  try {
    return await startDaemon({ ...options, listen: { host: '127.0.0.1', port } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
    say(`port ${port} is taken; using a free one`);
    return startDaemon({ ...options, listen: { host: '127.0.0.1', port: 0 } });
  }
}

export function instructions(input: { url: string; token: string; endpoint: string; seed: SeedResult; watchInterval: string }): string {
  const { url, token, endpoint, seed } = input;
  const env = `export AWS_ENDPOINT_URL=${endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`;
  const key = `${seed.prefix}services.yaml`;
  const s3Edit =
    `node -e "const {S3Client,GetObjectCommand,PutObjectCommand}=require('@aws-sdk/client-s3');` +
    `const s3=new S3Client({forcePathStyle:true}),B='${seed.bucket}',K='${key}';` +
    `s3.send(new GetObjectCommand({Bucket:B,Key:K})).then(r=>r.Body.transformToString())` +
    `.then(t=>s3.send(new PutObjectCommand({Bucket:B,Key:K,Body:t.replace('desiredCount: 2','desiredCount: 3')})))` +
    `.then(()=>console.log('uploaded s3://'+B+'/'+K))"`;
  const ecsDrift =
    `node -e "const {ECSClient,UpdateServiceCommand}=require('@aws-sdk/client-ecs');` +
    `new ECSClient({}).send(new UpdateServiceCommand({cluster:'shop',service:'shop-users',desiredCount:5}))` +
    `.then(r=>console.log('desiredCount now',r.service.desiredCount))"`;
  return [
    '',
    'converge demo: the daemon runs against a local AWS emulator seeded with desired-state/examples/shop',
    '',
    `  AWS emulator    ${endpoint}`,
    `  desired state   ${seed.source}`,
    `  daemon          ${url}`,
    `                  GET ${url}/healthz   ${url}/readyz   ${url}/status   ${url}/metrics`,
    `                  POST ${url}/reconcile   (bearer token below)`,
    '',
    `  trigger token   ${token}`,
    '                  (random, made for this demo run only; it is not written anywhere else)',
    '',
    'Trigger a cycle and wait for its summary:',
    `  curl -X POST -H "Authorization: Bearer ${token}" "${url}/reconcile?wait=true"`,
    '',
    'See what converge manages and in which state:',
    `  curl -s ${url}/status`,
    '',
    'In another shell, point the AWS SDK (and the aws CLI) at the emulator; run the node lines from the repository root:',
    `  ${env}`,
    '',
    `Change the desired state (converge notices within ${input.watchInterval}, no trigger needed):`,
    `  aws --endpoint-url ${endpoint} s3 cp desired-state/examples/shop/services.yaml s3://${seed.bucket}/${key}   # after editing it`,
    '  or, without the aws CLI (sets the users service to 3 tasks):',
    `  ${s3Edit}`,
    '',
    'Make drift behind converge\'s back (the next cycle logs a drift event and corrects it):',
    `  aws --endpoint-url ${endpoint} ecs update-service --cluster shop --service shop-users --desired-count 5`,
    '  or, without the aws CLI:',
    `  ${ecsDrift}`,
    '',
    'Ctrl-C stops the daemon and the emulator. Log events (JSON lines) follow on stdout.',
    '',
  ].join('\n');
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      once: { type: 'boolean', default: false },
      port: { type: 'string' },
      interval: { type: 'string', default: '60s' },
      'watch-interval': { type: 'string', default: '5s' },
    },
    strict: true,
  });
  const once = values.once === true;
  const root = findRepoRoot();
  const documentsDir = join(root, 'desired-state', 'examples', 'shop');

  say('starting the local AWS emulator (moto)...');
  const moto: MotoServer = await startMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: CERTIFICATE_WAIT_SECONDS } });
  let daemon: RunningDaemon | undefined;
  const stopAll = async (reason: string): Promise<void> => {
    await daemon?.daemon.stop(reason);
    daemon?.close();
    await moto.stop();
  };
  try {
    Object.assign(process.env, moto.awsEnv);
    const seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir });
    say(`seeded ${seed.source} with ${seed.uploaded.length} document file(s), a VPC, subnets and the zone ${seed.zoneName}`);

    const token = randomBytes(24).toString('base64url');
    const log = createLogger();
    const port = values.port !== undefined ? Number(values.port) : DEMO_PORT;
    const intervalMs = once ? 1_000 : parseDuration(values.interval ?? '60s', '--interval');
    const watchIntervalMs = parseDuration(values['watch-interval'] ?? '5s', '--watch-interval');
    const cycles: CycleSummary[] = [];
    let cycleEnded: () => void = () => undefined;
    daemon = await startLocalDaemon(
      { source: seed.source, log, triggerToken: token, intervalMs, watchIntervalMs, cycleTimeoutMs: 10 * 60_000, shutdownTimeoutMs: 20_000, leaseDurationMs: 60_000 },
      port,
    );
    const running = daemon;
    running.daemon.onCycle((summary) => {
      cycles.push(summary);
      cycleEnded();
    });
    /** The first cycle to end after `seen` cycles, or undefined after the deadline. */
    const cycleAfter = (seen: number): Promise<CycleSummary | undefined> =>
      new Promise((resolve) => {
        if (cycles.length > seen) return resolve(cycles[seen]);
        const timer = setTimeout(() => resolve(undefined), ONCE_DEADLINE_MS);
        cycleEnded = () => {
          clearTimeout(timer);
          resolve(cycles[seen]);
        };
      });
    let last = await cycleAfter(0);

    if (once) {
      const deadline = Date.now() + ONCE_DEADLINE_MS;
      while (last?.outcome === 'progressing' && Date.now() < deadline) last = await cycleAfter(cycles.indexOf(last) + 1);
      const ready = await fetch(`${running.address.url}/readyz`);
      for (const c of cycles) {
        say(`cycle ${c.cycle} (${c.trigger}): ${c.outcome}, ${c.changes} change(s), ${c.drifts} drift(s), ${c.errors} error(s), ${c.awsCalls} AWS call(s) (${c.awsWrites} writes) in ${c.durationMs} ms`);
      }
      say(`/readyz ${ready.status}`);
      await stopAll('--once');
      return last?.outcome === 'converged' && ready.status === 200 ? 0 : 1;
    }

    say(instructions({ url: running.address.url, token, endpoint: moto.endpoint, seed, watchInterval: `${watchIntervalMs / 1000}s` }));
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        say(`\n${signal}: stopping the daemon, then the emulator...`);
        void stopAll(signal).then(resolve);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    return 0;
  } catch (error) {
    say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll('error').catch(() => undefined);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await runDemo(process.argv.slice(2));
}
