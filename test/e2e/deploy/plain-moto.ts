/**
 * moto's own server (`python3 -m moto.server`), without converge's extensions, for the stack test.
 *
 * Why not test/emulator/server.py: moto's CloudFormation registers an AWS::ECS::TaskDefinition
 * without its ExecutionRoleArn (moto 5 keeps only Family, ContainerDefinitions, Volumes and
 * Memory), and converge's extension refuses, as Fargate does, a task definition with secrets or
 * awslogs and no execution role. The template is right; moto's CloudFormation drops the property.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { checkPythonMoto, findFreePort } from '../../support/moto.js';

export interface PlainMoto {
  endpoint: string;
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  env: Record<string, string>;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function start(): Promise<{ child: ChildProcess; endpoint: string }> {
  const python = process.env.CONVERGE_EMULATOR_PYTHON ?? 'python3';
  checkPythonMoto(python);
  const port = await findFreePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto.server exited (${child.exitCode}):\n${stderr}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`)).ok) return { child, endpoint };
    } catch {
      // not listening yet
    }
    if (Date.now() > end) {
      kill();
      throw new Error(`moto.server did not answer within 30 s:\n${stderr}`);
    }
    await sleep(200);
  }
}

/** One moto server for the test file, started in beforeAll and stopped in afterAll. */
export function usePlainMoto(): PlainMoto {
  let running: { child: ChildProcess; endpoint: string } | undefined;
  beforeAll(async () => {
    running = await start();
  }, 45_000);
  afterAll(async () => {
    const child = running?.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
  const endpoint = (): string => {
    if (!running) throw new Error('moto is not running yet');
    return running.endpoint;
  };
  return {
    get endpoint() {
      return endpoint();
    },
    get clientConfig() {
      return { endpoint: endpoint(), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    },
    get env() {
      return { AWS_ENDPOINT_URL: endpoint(), AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    },
  };
}
