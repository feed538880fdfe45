/**
 * What the image holds, checked without a Docker engine. Reads the Dockerfile, reproduces the
 * stages the runtime stage copies from (`npm ci --omit=dev` from the lockfile, the TypeScript build),
 * assembles the runtime stage's files into a temporary folder exactly as its COPY lines say, and
 * runs them the way the image runs: as a non-root user (nobody, when started as root), with the
 * image's ENV only (NODE_ENV=production), the ENTRYPOINT and CMD as written:
 *
 *   1. `<ENTRYPOINT> --version` prints the package version and the revision;
 *   2. `<ENTRYPOINT> validate --source <example>` accepts desired-state/examples/shop;
 *   3. `<ENTRYPOINT> <CMD>` (the daemon) against the emulator seeded with the example: it answers
 *      /healthz, the HEALTHCHECK command passes, its startup cycle ends without errors, /readyz
 *      answers 200; on SIGTERM it exits 0 and the HEALTHCHECK command then fails.
 *
 *   npm run image:check                                 # every stage from scratch (npm ci, tsc)
 *   node dist/scripts/image-check.js --reuse-build      # the build stage's dist/ from the checkout
 *        [--keep] [--report report.json] [--build-arg CONVERGE_REVISION=...]
 *
 * `node` is the one running this script (the image has Node 22: `npm run test:node22` runs the
 * tests, this check included, under Node 22). Needs Python 3 with moto, like the tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gitRevision } from '../src/cli/version.js';
import { dockerignoreMatcher, parseDockerfile, runtimeStage, stageByRef, type CopyInstruction, type Dockerfile, type Stage } from './dockerfile.js';
import { findFreePort, findRepoRoot, startMoto, type MotoServer } from './moto.js';
import { seedEnvironment } from './seed.js';

export interface ImageCheckOptions {
  root?: string;
  /** Take the build stage's `npm run build` output from the checkout's dist/ (and its node_modules for the build). */
  reuseBuild?: boolean;
  /** Keep the temporary folder. */
  keep?: boolean;
  buildArgs?: Record<string, string>;
  log?: (line: string) => void;
}

export interface StepResult {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface ImageCheckReport {
  ok: boolean;
  imageDir: string;
  imageBytes: number;
  packages: number;
  runAs: { uid: number; gid: number; how: string };
  node: string;
  revision?: string;
  steps: StepResult[];
  totalMs: number;
  /** Why it failed. */
  error?: string;
}

const NOBODY = 65_534;
const EXAMPLE = join('desired-state', 'examples', 'shop');
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

class CheckFailed extends Error {}

function folderBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

/** Installed packages: every folder with a package.json directly under node_modules (scoped ones included). */
function installedPackages(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  const names: string[] = [];
  const visit = (folder: string, prefix: string, depth: number): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const full = join(folder, entry.name);
      if (entry.name.startsWith('@') && depth === 0) visit(full, `${entry.name}/`, 1);
      else if (existsSync(join(full, 'package.json'))) {
        names.push(`${prefix}${entry.name}`);
        if (existsSync(join(full, 'node_modules'))) visit(join(full, 'node_modules'), '', 0);
      }
    }
  };
  visit(nodeModules, '', 0);
  return [...new Set(names)].sort();
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new CheckFailed(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new CheckFailed(`${command} ${args.join(' ')} exited ${result.status}:\n${(result.stderr || result.stdout).slice(-3000)}`);
}

/** How to run a command as a non-root user: nobody through setpriv when this process is root. */
function runAs(): { prefix: string[]; uid: number; gid: number; how: string } {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  if (uid !== 0) return { prefix: [], uid, gid, how: `as the current user (uid ${uid}), already not root` };
  for (const setpriv of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (existsSync(setpriv)) {
      const prefix = [setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--no-new-privs'];
      const probe = spawnSync(prefix[0] ?? '', [...prefix.slice(1), process.execPath, '--version'], { encoding: 'utf8' });
      if (probe.status !== 0) {
        throw new CheckFailed(`nobody cannot run ${process.execPath} (${(probe.stderr || probe.error?.message || '').trim()}): use a Node installed where every user can reach it`);
      }
      return { prefix, uid: NOBODY, gid: NOBODY, how: `as nobody (uid ${NOBODY}) through setpriv` };
    }
  }
  throw new CheckFailed('running as root and setpriv (util-linux) is missing: cannot drop to a non-root user');
}

class Assembler {
  private readonly stageRoots = new Map<number, string>();
  private readonly ignored: (path: string) => boolean;

  constructor(
    private readonly root: string,
    private readonly dockerfile: Dockerfile,
    private readonly work: string,
    private readonly reuseBuild: boolean,
    private readonly log: (line: string) => void,
  ) {
    const ignoreFile = join(root, '.dockerignore');
    this.ignored = dockerignoreMatcher(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
  }

  /** The folder standing for `/` of a stage, built on first use. */
  rootOf(stage: Stage): string {
    const known = this.stageRoots.get(stage.index);
    if (known) return known;
    const rootfs = join(this.work, `stage-${stage.index}${stage.name ? `-${stage.name}` : ''}`);
    mkdirSync(rootfs, { recursive: true });
    this.stageRoots.set(stage.index, rootfs);
    this.build(stage, rootfs);
    return rootfs;
  }

  private inRoot(rootfs: string, workdir: string, path: string): string {
    const absolute = path.startsWith('/') ? path : `${workdir.replace(/\/$/, '')}/${path}`;
    const target = resolve(rootfs, `.${absolute}`);
    if (target !== rootfs && !target.startsWith(`${rootfs}${sep}`)) throw new CheckFailed(`${path} leaves the stage's file system`);
    return target;
  }

  private build(stage: Stage, rootfs: string): void {
    let workdir = '/';
    for (const instruction of stage.instructions) {
      if (instruction.kind === 'WORKDIR') {
        workdir = instruction.path;
        mkdirSync(this.inRoot(rootfs, workdir, '.'), { recursive: true });
      } else if (instruction.kind === 'COPY') {
        const sourceRoot = instruction.from === undefined ? this.root : this.rootOf(stageByRef(this.dockerfile, instruction.from));
        const fromContext = instruction.from === undefined;
        const destination = this.inRoot(rootfs, workdir, instruction.destination);
        const intoFolder = instruction.destination.endsWith('/') || instruction.sources.length > 1;
        for (const source of instruction.sources) {
          if (/[*?[]/.test(source)) throw new CheckFailed(`line ${instruction.line}: image-check does not expand wildcards in COPY (${source})`);
          const from = fromContext ? resolve(this.root, source) : this.inRoot(sourceRoot, '/', source);
          if (fromContext && (relative(this.root, from).startsWith('..') || this.ignored(relative(this.root, from).split(sep).join('/')))) {
            throw new CheckFailed(`line ${instruction.line}: COPY ${source} is outside the build context or excluded by .dockerignore`);
          }
          if (!existsSync(from)) throw new CheckFailed(`line ${instruction.line}: COPY ${source}: no such file in ${fromContext ? 'the build context' : `stage ${instruction.from}`}`);
          const isFolder = statSync(from).isDirectory();
          const target = isFolder ? destination : intoFolder ? join(destination, source.split('/').pop() ?? source) : destination;
          mkdirSync(isFolder ? target : dirname(target), { recursive: true });
          if (fromContext) {
            cpSync(from, target, { recursive: true, verbatimSymlinks: true, filter: (path) => !this.ignored(relative(this.root, path).split(sep).join('/')) });
          } else if (!this.usedLater(instruction, source) && (!existsSync(target) || (isFolder && readdirSync(target).length === 0))) {
            // Nothing copies this path from that stage again: move it, which is what a copy would leave
            // here, minus copying and later deleting thousands of node_modules files.
            rmSync(target, { recursive: true, force: true });
            renameSync(from, target);
          } else {
            // cp -a, as COPY keeps links (node_modules/.bin) and modes; cpSync takes ten times as long on node_modules.
            run('cp', ['-a', isFolder ? `${from}/.` : from, target], this.work);
          }
        }
      } else {
        this.runInstruction(instruction.command, instruction.line, this.inRoot(rootfs, workdir, '.'));
      }
    }
  }

  /** Whether a later COPY --from the same stage takes this path, or a path inside or around it. */
  private usedLater(copy: CopyInstruction, source: string): boolean {
    const from = copy.from;
    if (from === undefined) return true;
    const stage = stageByRef(this.dockerfile, from);
    const overlaps = (a: string, b: string): boolean => a === b || a.startsWith(`${b.replace(/\/$/, '')}/`) || b.startsWith(`${a.replace(/\/$/, '')}/`);
    return this.dockerfile.stages.some((s) =>
      s.instructions.some(
        (other) =>
          other.kind === 'COPY' &&
          other.line > copy.line &&
          other.from !== undefined &&
          stageByRef(this.dockerfile, other.from).index === stage.index &&
          other.sources.some((path) => overlaps(path, source)),
      ),
    );
  }

  /** The RUN lines image-check knows how to reproduce; anything else is refused. */
  private runInstruction(command: string, line: number, cwd: string): void {
    const started = Date.now();
    const npmCi = /^npm ci((?:\s+--(?:omit=dev|ignore-scripts))*)$/.exec(command);
    if (npmCi) {
      const production = (npmCi[1] ?? '').includes('--omit=dev');
      if (!production && this.reuseBuild) {
        symlinkSync(join(this.root, 'node_modules'), join(cwd, 'node_modules'), 'dir');
        this.log(`  RUN ${command} (line ${line}): reused the checkout's node_modules (--reuse-build)`);
        return;
      }
      const flags = (npmCi[1] ?? '').trim().split(/\s+/).filter(Boolean);
      run('npm', ['ci', ...flags, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], cwd);
      this.log(`  RUN ${command} (line ${line}): ${Date.now() - started} ms`);
      return;
    }
    if (command === 'npm run build') {
      if (this.reuseBuild) {
        const built = join(this.root, 'dist');
        if (!existsSync(join(built, 'src', 'cli', 'main.js'))) throw new CheckFailed('--reuse-build: the checkout has no dist/: run `npm run build` first');
        cpSync(built, join(cwd, 'dist'), { recursive: true });
        this.log(`  RUN ${command} (line ${line}): took the checkout's dist/ (--reuse-build)`);
        return;
      }
      run('npm', ['run', 'build', '--silent'], cwd);
      this.log(`  RUN ${command} (line ${line}): ${Date.now() - started} ms`);
      return;
    }
    throw new CheckFailed(`line ${line}: image-check does not know how to reproduce RUN ${command}: teach scripts/image-check.ts`);
  }
}

interface DaemonChild {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function startDaemon(command: string[], cwd: string, env: NodeJS.ProcessEnv): DaemonChild {
  const child = spawn(command[0] ?? '', command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== '') {
        try {
          events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          events.push({ event: 'not-json', line });
        }
      }
      newline = buffer.indexOf('\n');
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, events, stderr: () => stderr, exited };
}

async function waitForEvent(daemon: DaemonChild, predicate: (e: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = daemon.events.find(predicate);
    if (found) return found;
    if (daemon.child.exitCode !== null) throw new CheckFailed(`the daemon exited (${daemon.child.exitCode}) before ${what}; stderr:\n${daemon.stderr()}\nevents:\n${JSON.stringify(daemon.events.slice(-8))}`);
    if (Date.now() > end) throw new CheckFailed(`no ${what} within ${timeoutMs} ms; events:\n${JSON.stringify(daemon.events.slice(-8))}`);
    await sleep(50);
  }
}

function uidOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
    return line === undefined ? undefined : Number(line.split(/\s+/)[1]);
  } catch {
    return undefined;
  }
}

export async function imageCheck(options: ImageCheckOptions = {}): Promise<ImageCheckReport> {
  const started = Date.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = options.root ?? findRepoRoot();
  const steps: StepResult[] = [];
  const step = async <T>(name: string, body: () => Promise<{ detail: string; value: T }> | { detail: string; value: T }): Promise<T> => {
    const at = Date.now();
    try {
      const { detail, value } = await body();
      steps.push({ name, ok: true, detail, ms: Date.now() - at });
      log(`ok    ${name}: ${detail} (${Date.now() - at} ms)`);
      return value;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      steps.push({ name, ok: false, detail, ms: Date.now() - at });
      log(`FAIL  ${name}: ${detail}`);
      throw error;
    }
  };

  // What `docker build --build-arg CONVERGE_REVISION=$(git rev-parse HEAD)` bakes in.
  const buildArgs = { ...options.buildArgs };
  if (buildArgs.CONVERGE_REVISION === undefined) {
    const revision = gitRevision(root);
    if (revision !== undefined) buildArgs.CONVERGE_REVISION = revision;
  }
  let user: ReturnType<typeof runAs>;
  try {
    user = runAs();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`FAIL  run as a non-root user: ${message}`);
    return { ok: false, imageDir: '', imageBytes: 0, packages: 0, runAs: { uid: -1, gid: -1, how: 'none' }, node: process.version, steps, totalMs: Date.now() - started, error: message };
  }
  const work = mkdtempSync(join(tmpdir(), 'converge-image-'));
  // The non-root user must reach the image folder (mkdtemp makes it 0700).
  chmodSync(work, 0o755);
  const report: ImageCheckReport = {
    ok: false,
    imageDir: '',
    imageBytes: 0,
    packages: 0,
    runAs: { uid: user.uid, gid: user.gid, how: user.how },
    node: process.version,
    ...(buildArgs.CONVERGE_REVISION ? { revision: buildArgs.CONVERGE_REVISION } : {}),
    steps,
    totalMs: 0,
  };
  let moto: MotoServer | undefined;
  let daemon: DaemonChild | undefined;
  try {
    const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'), buildArgs);
    const runtime = runtimeStage(dockerfile);
    const entrypoint = runtime.entrypoint;
    if (!entrypoint || !runtime.cmd || !runtime.healthcheck) throw new CheckFailed('the runtime stage needs ENTRYPOINT, CMD and HEALTHCHECK');
    const healthcheck = runtime.healthcheck.command;

    const rootfs = await step('assemble the runtime stage', () => {
      const assembler = new Assembler(root, dockerfile, work, options.reuseBuild === true, log);
      const folder = assembler.rootOf(runtime);
      return { detail: `${runtime.image} stage ${runtime.index} into ${folder}`, value: folder };
    });
    const appDir = join(rootfs, `.${runtime.workdir}`);
    report.imageDir = appDir;

    await step('production dependencies only', () => {
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      const installed = installedPackages(join(appDir, 'node_modules'));
      const dev = Object.keys(manifest.devDependencies ?? {}).filter((name) => installed.includes(name));
      if (dev.length > 0) throw new CheckFailed(`devDependencies in the image: ${dev.join(', ')}`);
      const missing = Object.keys(manifest.dependencies ?? {}).filter((name) => !installed.includes(name));
      if (missing.length > 0) throw new CheckFailed(`dependencies missing from the image: ${missing.join(', ')}`);
      for (const forbidden of ['typescript', 'vitest', 'eslint', 'vite']) {
        if (installed.includes(forbidden)) throw new CheckFailed(`${forbidden} (a build or test tool) is in the image`);
      }
      report.packages = installed.length;
      report.imageBytes = folderBytes(appDir);
      return { detail: `${installed.length} packages, no devDependency; ${(report.imageBytes / 1e6).toFixed(1)} MB in ${runtime.workdir}`, value: undefined };
    });

    /** The container's view: the image's ENV only, `node` this Node, absolute paths inside the image folder. */
    const containerEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: '/nonexistent',
      ...runtime.env,
      ...extra,
    });
    const inImage = (command: string[]): string[] =>
      command.map((part, index) => (index === 0 && part === 'node' ? process.execPath : part.startsWith('/') && existsSync(join(rootfs, part)) ? join(rootfs, part) : part));
    const exec = (command: string[], extra: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } => {
      const full = [...user.prefix, ...inImage(command)];
      const result = spawnSync(full[0] ?? '', full.slice(1), { cwd: appDir, env: containerEnv(extra), encoding: 'utf8', timeout: 60_000 });
      if (result.error) throw new CheckFailed(`${command.join(' ')}: ${result.error.message}`);
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };

    await step('--version', () => {
      const answer = exec([...entrypoint, '--version']);
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
      const line = answer.stdout.trim();
      if (answer.status !== 0) throw new CheckFailed(`exit ${answer.status}: ${answer.stderr}`);
      if (!line.startsWith(`converge ${manifest.version} `)) throw new CheckFailed(`does not print the package version ${manifest.version}: ${line}`);
      const revision = buildArgs.CONVERGE_REVISION;
      if (revision && !line.includes(`revision ${revision.slice(0, 12)}`)) throw new CheckFailed(`does not print the revision ${revision}: ${line}`);
      if (!revision && !line.includes('revision unknown')) throw new CheckFailed(`no revision was baked in, yet it prints one: ${line}`);
      return { detail: line, value: undefined };
    });

    // The example lives outside the image; copy it where the non-root user can read it.
    const example = join(work, 'example-shop');
    cpSync(join(root, EXAMPLE), example, { recursive: true });
    await step('validate the example', () => {
      const answer = exec([...entrypoint, 'validate', '--source', example]);
      if (answer.status !== 0) throw new CheckFailed(`exit ${answer.status}: ${answer.stderr}`);
      return { detail: answer.stderr.split('\n').find((line) => line.startsWith('valid:')) ?? answer.stderr.trim(), value: undefined };
    });

    const source = await step('start the emulator and seed the example', async () => {
      moto = await startMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '0', MOTO_ACM_VALIDATION_WAIT: '0' } });
      const seed = await seedEnvironment({ endpoint: moto.endpoint, documentsDir: join(root, EXAMPLE) });
      return { detail: `${moto.endpoint}, source ${seed.source}`, value: seed.source };
    });
    if (!moto) throw new CheckFailed('the emulator did not start');
    const port = await findFreePort();
    const daemonEnv = {
      ...moto.awsEnv,
      CONVERGE_SOURCE: source,
      CONVERGE_LISTEN: `127.0.0.1:${port}`,
      CONVERGE_INTERVAL: '1h',
      CONVERGE_TRIGGER_TOKEN: randomBytes(16).toString('hex'),
    };
    const command = [...user.prefix, ...inImage([...entrypoint, ...runtime.cmd])];
    daemon = startDaemon(command, appDir, containerEnv(daemonEnv));
    const running = daemon;
    await step('the daemon listens and answers /healthz', async () => {
      const listening = await waitForEvent(running, (e) => e.event === 'listening', 30_000, 'listening event');
      const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (healthz.status !== 200) throw new CheckFailed(`/healthz answered ${healthz.status}`);
      const uid = uidOf(running.child.pid);
      if (uid !== undefined && uid !== user.uid) throw new CheckFailed(`the daemon runs as uid ${uid}, not ${user.uid}`);
      return { detail: `${String(listening.url)}, /healthz 200, uid ${uid ?? 'unknown'}`, value: undefined };
    });
    await step('HEALTHCHECK passes while it runs', () => {
      const answer = exec(healthcheck, daemonEnv);
      if (answer.status !== 0) throw new CheckFailed(`${healthcheck.join(' ')} exited ${answer.status}: ${answer.stderr}`);
      return { detail: `${healthcheck.join(' ')}: exit 0`, value: undefined };
    });
    await step('the startup cycle ends without errors; /readyz 200', async () => {
      const cycle = await waitForEvent(running, (e) => e.event === 'cycle', 60_000, 'the startup cycle');
      if (cycle.errors !== 0) throw new CheckFailed(`the startup cycle had errors: ${JSON.stringify(cycle)}\n${JSON.stringify(running.events.filter((e) => e.level === 'error').slice(0, 5))}`);
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (readyz.status !== 200) throw new CheckFailed(`/readyz answered ${readyz.status}`);
      return { detail: `cycle ${String(cycle.cycle)} ${String(cycle.outcome)}, ${String(cycle.changes)} changes, ${String(cycle.awsCalls)} AWS calls in ${String(cycle.durationMs)} ms`, value: undefined };
    });
    await step('SIGTERM: exit 0, then the HEALTHCHECK fails', async () => {
      const at = Date.now();
      running.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([running.exited, new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), 30_000)))]);
      clearTimeout(timer);
      if (code === 'timeout') throw new CheckFailed('still running 30 s after SIGTERM');
      if (code !== 0) throw new CheckFailed(`exited ${code} after SIGTERM; stderr:\n${running.stderr()}`);
      if (!running.events.some((e) => e.event === 'shutdown')) throw new CheckFailed('no shutdown event before the exit');
      const after = exec(healthcheck, daemonEnv);
      if (after.status === 0) throw new CheckFailed('the HEALTHCHECK still passes with the daemon gone');
      return { detail: `exit 0 ${Date.now() - at} ms after SIGTERM; HEALTHCHECK then exits ${after.status}`, value: undefined };
    });
    report.ok = true;
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
  } finally {
    if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    const stopping = Date.now();
    await moto?.stop();
    const removing = Date.now();
    // rm -rf: several times faster than rmSync on node_modules.
    if (!options.keep) spawnSync('rm', ['-rf', '--one-file-system', work]);
    else log(`kept ${work}`);
    log(`cleanup: the emulator stopped in ${removing - stopping} ms, the folder ${options.keep ? 'kept' : `removed in ${Date.now() - removing} ms`}`);
    report.totalMs = Date.now() - started;
  }
  return report;
}

async function cli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'reuse-build': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      report: { type: 'string' },
      'build-arg': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write('Usage: node dist/scripts/image-check.js [--reuse-build] [--keep] [--report FILE] [--build-arg NAME=VALUE ...]\n');
    return 0;
  }
  const buildArgs: Record<string, string> = {};
  for (const pair of values['build-arg'] ?? []) {
    const [name = '', ...value] = pair.split('=');
    buildArgs[name] = value.join('=');
  }
  const report = await imageCheck({ reuseBuild: values['reuse-build'] === true, keep: values.keep === true, buildArgs });
  if (values.report !== undefined) writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  const seconds = (report.totalMs / 1000).toFixed(1);
  if (report.ok) {
    process.stderr.write(`image-check: passed in ${seconds} s (${(report.imageBytes / 1e6).toFixed(1)} MB, ${report.packages} packages, ${report.runAs.how}, node ${report.node})\n`);
    return 0;
  }
  process.stderr.write(`image-check: FAILED after ${seconds} s: ${report.error ?? 'see above'}\n`);
  return 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await cli(process.argv.slice(2));
}
