/**
 * The Dockerfile as scripts/image-check.ts reads it, and what the image promises: Node 22, production
 * only, non-root, a health check without curl, the same health check and port in deploy/converge.yaml.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DockerfileError, dockerignoreMatcher, durationSeconds, parseDockerfile, runtimeStage, stageByRef } from '../../../scripts/dockerfile.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

describe('parseDockerfile', () => {
  it('reads stages, continuations, ARG and ENV forms, exec forms and HEALTHCHECK options', () => {
    const file = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'ARG BASE=node:22-slim',
        'FROM ${BASE} AS build',
        'WORKDIR /app',
        'RUN npm ci \\',
        '    --ignore-scripts',
        'FROM $BASE',
        'ARG REV=',
        'ARG BASE',
        'ENV A=1 B="two words" C=${REV}',
        'ENV LEGACY some value',
        'WORKDIR srv',
        'COPY --from=build /app/dist ./dist',
        'COPY a b ./',
        'USER node',
        'HEALTHCHECK --interval=30s --timeout=5s CMD ["node", "/srv/check.js"]',
        'ENTRYPOINT ["node", "bin/x.js"]',
        'CMD ["run"]',
      ].join('\n'),
      { REV: 'abc' },
    );
    expect(file.stages.map((s) => [s.name, s.image])).toEqual([
      ['build', 'node:22-slim'],
      [undefined, 'node:22-slim'],
    ]);
    expect(file.stages[0]?.instructions).toContainEqual({ kind: 'RUN', command: 'npm ci --ignore-scripts', line: 5 });
    const runtime = runtimeStage(file);
    expect(runtime.env).toEqual({ A: '1', B: 'two words', C: 'abc', LEGACY: 'some value' });
    expect(runtime.args).toEqual({ REV: 'abc', BASE: 'node:22-slim' });
    expect(runtime.workdir).toBe('/srv');
    expect(runtime.instructions.filter((i) => i.kind === 'COPY')).toEqual([
      { kind: 'COPY', from: 'build', sources: ['/app/dist'], destination: './dist', line: 13 },
      { kind: 'COPY', sources: ['a', 'b'], destination: './', line: 14 },
    ]);
    expect(runtime.healthcheck).toEqual({ options: { interval: '30s', timeout: '5s' }, command: ['node', '/srv/check.js'] });
    expect([runtime.user, runtime.entrypoint, runtime.cmd]).toEqual(['node', ['node', 'bin/x.js'], ['run']]);
    expect(stageByRef(file, 'build').index).toBe(0);
    expect(stageByRef(file, '1')).toBe(runtime);
  });

  it('refuses what it cannot follow instead of guessing', () => {
    expect(() => parseDockerfile('FROM x\nADD a b')).toThrow(/does not know how to follow ADD/);
    expect(() => parseDockerfile('FROM x\nCOPY --chown=node a b')).toThrow(/COPY --chown/);
    expect(() => parseDockerfile('FROM x\nCMD node run')).toThrow(/exec form/);
    expect(() => parseDockerfile('FROM x\nENV A=${UNDECLARED}')).toThrow(/UNDECLARED is not declared/);
    expect(() => parseDockerfile('WORKDIR /app')).toThrow(/before the first FROM/);
    expect(() => parseDockerfile('# nothing')).toThrow(DockerfileError);
  });

  it('reads durations and .dockerignore patterns', () => {
    expect(durationSeconds('30s')).toBe(30);
    expect(durationSeconds('1m30s')).toBe(90);
    expect(() => durationSeconds('soon')).toThrow();
    const ignored = dockerignoreMatcher('# c\n.git\nnode_modules/\n*.log\n**/__pycache__\n');
    for (const path of ['.git', '.git/HEAD', 'node_modules/x/index.js', 'a.log', 'src/__pycache__/x.pyc', '__pycache__']) expect(ignored(path), path).toBe(true);
    for (const path of ['src/a.ts', 'bin/converge.js', 'src/a.log', 'package.json']) expect(ignored(path), path).toBe(false);
    expect(() => dockerignoreMatcher('!keep')).toThrow(/exceptions/);
  });
});

describe('the Dockerfile', () => {
  const dockerfile = parseDockerfile(read('Dockerfile'));
  const runtime = runtimeStage(dockerfile);
  const manifest = JSON.parse(read('package.json')) as { engines: { node: string }; version: string };

  it('builds every stage on Node 22, the engine package.json asks for', () => {
    for (const stage of dockerfile.stages) expect(stage.image).toMatch(/^node:22(\.|-|$)/);
    expect(manifest.engines.node).toMatch(/^>=22\./);
  });

  it('runs production only, as a non-root user, node bin/converge.js run by default', () => {
    expect(runtime.env.NODE_ENV).toBe('production');
    expect(runtime.user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(runtime.user);
    expect(runtime.entrypoint).toEqual(['node', 'bin/converge.js']);
    expect(runtime.cmd).toEqual(['run']);
    const deps = runtime.instructions.find((i) => i.kind === 'COPY' && i.destination === './node_modules');
    expect(deps?.kind === 'COPY' && deps.from !== undefined && stageByRef(dockerfile, deps.from).instructions.some((i) => i.kind === 'RUN' && /--omit=dev/.test(i.command))).toBe(true);
  });

  it('copies only what exists in the build context and .dockerignore lets through', () => {
    const ignored = dockerignoreMatcher(read('.dockerignore'));
    for (const stage of dockerfile.stages) {
      for (const copy of stage.instructions) {
        if (copy.kind !== 'COPY' || copy.from !== undefined) continue;
        for (const source of copy.sources) {
          expect(existsSync(join(ROOT, source)), `line ${copy.line}: ${source}`).toBe(true);
          expect(ignored(source), `line ${copy.line}: ${source} is in .dockerignore`).toBe(false);
        }
      }
    }
  });

  it('bakes the revision into CONVERGE_REVISION from a build argument', () => {
    expect(runtime.args).toHaveProperty('CONVERGE_REVISION');
    expect(parseDockerfile(read('Dockerfile'), { CONVERGE_REVISION: 'abc123' }).stages.at(-1)?.env.CONVERGE_REVISION).toBe('abc123');
  });

  it('has a HEALTHCHECK without curl: node runs the compiled src/cli/healthcheck.ts', () => {
    expect(runtime.healthcheck?.command).toEqual(['node', '/app/dist/src/cli/healthcheck.js']);
    expect(runtime.workdir).toBe('/app');
    expect(existsSync(join(ROOT, 'src', 'cli', 'healthcheck.ts'))).toBe(true);
  });
});

interface ContainerDefinition {
  HealthCheck: { Command: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
  PortMappings: { ContainerPort: number }[];
  Environment: { Name: string; Value: unknown }[];
  Secrets: { Name: string; ValueFrom: unknown }[];
}
interface Template {
  Resources: {
    TaskDefinition: { Properties: { ContainerDefinitions: ContainerDefinition[]; RequiresCompatibilities: string[]; NetworkMode: string } };
    Service: { Properties: { DesiredCount: number; LaunchType: string; DeploymentConfiguration: { MaximumPercent: number; MinimumHealthyPercent: number } } };
    DesiredStateBucketResource: { Condition: string; Properties: { VersioningConfiguration: { Status: string } } };
  };
}

describe('deploy/converge.yaml runs the image as the Dockerfile means it', () => {
  const runtime = runtimeStage(parseDockerfile(read('Dockerfile')));
  const template = parse(read('deploy/converge.yaml')) as Template;
  const container = template.Resources.TaskDefinition.Properties.ContainerDefinitions[0];

  it('the same health check, command and timing, as the image (ECS ignores HEALTHCHECK)', () => {
    const options = runtime.healthcheck?.options ?? {};
    expect(container?.HealthCheck).toEqual({
      Command: ['CMD', ...(runtime.healthcheck?.command ?? [])],
      Interval: durationSeconds(options.interval ?? ''),
      Timeout: durationSeconds(options.timeout ?? ''),
      Retries: Number(options.retries),
      StartPeriod: durationSeconds(options['start-period'] ?? ''),
    });
  });

  it('the port the image exposes, where the daemon listens', () => {
    expect(runtime.expose).toEqual(['8080']);
    expect(container?.PortMappings.map((p) => String(p.ContainerPort))).toEqual(runtime.expose);
    expect(container?.Environment.find((e) => e.Name === 'CONVERGE_LISTEN')?.Value).toBe('0.0.0.0:8080');
  });

  it('one task, never two at once, on Fargate; the token as a secret; a versioned bucket when it makes one', () => {
    const service = template.Resources.Service.Properties;
    expect(service.DesiredCount).toBe(1);
    expect(service.LaunchType).toBe('FARGATE');
    expect(service.DeploymentConfiguration).toMatchObject({ MaximumPercent: 100, MinimumHealthyPercent: 0 });
    expect(template.Resources.TaskDefinition.Properties).toMatchObject({ RequiresCompatibilities: ['FARGATE'], NetworkMode: 'awsvpc' });
    expect(container?.Secrets).toEqual([{ Name: 'CONVERGE_TRIGGER_TOKEN', ValueFrom: { Ref: 'TriggerTokenSecretArn' } }]);
    expect(container?.Environment.map((e) => e.Name)).not.toContain('CONVERGE_TRIGGER_TOKEN');
    expect(template.Resources.DesiredStateBucketResource).toMatchObject({ Condition: 'CreateBucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } });
  });
});
