/**
 * The AWS emulator for vitest files: `useMoto()` starts one emulator for the file in
 * `beforeAll` and stops it in `afterAll`. Test files run in parallel, each with its own server.
 *
 *   const moto = useMoto();
 *   it('...', async () => {
 *     const ecs = new ECSClient(moto.clientConfig);
 *   });
 */
import { afterAll, beforeAll } from 'vitest';
import { startMoto, type MotoServer, type StartMotoOptions } from '../../scripts/moto.js';

export { startMoto, findFreePort, checkPythonMoto, INSTALL_HINT } from '../../scripts/moto.js';
export type { MotoServer, StartMotoOptions } from '../../scripts/moto.js';

export interface MotoClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface UseMotoOptions extends StartMotoOptions {
  /** Also put `awsEnv` into process.env for the file (restored in afterAll). */
  setProcessEnv?: boolean;
}

export interface MotoHandle {
  /** The running server (available inside tests and hooks that run after beforeAll). */
  readonly server: MotoServer;
  readonly endpoint: string;
  /** AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY */
  readonly env: Record<string, string>;
  /** Config for an AWS SDK v3 client; S3 clients also need `forcePathStyle: true`. */
  readonly clientConfig: MotoClientConfig;
  reset(): Promise<void>;
}

export function useMoto(options: UseMotoOptions = {}): MotoHandle {
  let server: MotoServer | undefined;
  const saved = new Map<string, string | undefined>();
  const running = (): MotoServer => {
    if (!server) throw new Error('useMoto(): the emulator is not running yet (use it inside tests or hooks, not at collection time)');
    return server;
  };

  beforeAll(async () => {
    server = await startMoto(options);
    if (options.setProcessEnv) {
      for (const [key, value] of Object.entries(server.awsEnv)) {
        saved.set(key, process.env[key]);
        process.env[key] = value;
      }
    }
  }, (options.timeoutMs ?? 30_000) + 15_000);

  afterAll(async () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    saved.clear();
    await server?.stop();
    server = undefined;
  });

  return {
    get server() {
      return running();
    },
    get endpoint() {
      return running().endpoint;
    },
    get env() {
      return running().awsEnv;
    },
    get clientConfig() {
      const s = running();
      return {
        endpoint: s.endpoint,
        region: s.awsEnv.AWS_REGION ?? 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      };
    },
    reset() {
      return running().reset();
    },
  };
}
