import { it } from 'vitest';
import { parseDesiredState } from '../../../desired-state/parse.js';
it('scratch', () => {
  const files = [
    { file: 'a.yaml', content: `
apiVersion: converge/v2
kind: Servce
metadata: { name: x }
spec: {}
---
apiVersion: converge/v1
kind: Service
metadata: { name: Users, labels: { "aws:x": y, ok: "bad!" }, lables: {} }
spec:
  container: { image: "a b", port: "80", cpu: 300, memory: 512, env: { "1X": a, P: 5, S: x }, secrets: { S: hunter2, T: 1234 } }
  desiredCount: 1.5
  listnerPort: 1
  healthCheck: { intervalSeconds: 5, timeoutSeconds: 6, matcher: "200-600" }
  deployment: { strategy: canary, config: CodeDeployDefault.ECSFoo, terminateBlueAfterMinutes: -1 }
  routes:
    - { path: "users/{id}", methods: [GET, GET, FETCH] }
    - { path: "/x/{id}", methods: [], backendPath: "/y/{uid}" }
    - { path: "/__health/x", methods: [GET] }
    - path: /a/{b
      methods: GET
---
apiVersion: converge/v1
kind: Service
metadata: { name: orders }
spec:
  container: { image: img, port: 80, cpu: 256, memory: 4096 }
  listenerPort: 10001
  deployment: { config: CodeDeployDefault.ECSCanary10Percent5Minutes }
  healthCheck: { timeoutSeconds: 40 }
  routes:
    - { path: "/x/{xid}/y", methods: [GET] }
---
apiVersion: converge/v1
kind: Service
metadata: { name: gateway }
spec:
  container: { image: img, port: 80, cpu: 256, memory: 512 }
  listenerPort: 10001
  routes:
    - { path: "/x/{xid}/y", methods: [GET] }
---
- just a list
---
apiVersion: converge/v1
kind: Environment
metadata: { name: shop }
spec:
  region: us-east
  network: { vpc: { id: vpc-12, name: a }, privateSubnets: [], publicSubnets: [{ id: subnet-x }] }
  dns: { zone: example.com }
  loadBalancers:
    backend: { domain: api.example.org, certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc", ingressCidrs: [10.0.0.1/8, 300.1.1.1/2] }
    frontend: { domain: api.example.org, certificateArn: foo }
  defaults: { logRetentionDays: 31, deployment: { config: ECSAllAtOnce } }
  iam: { executionRoleArn: role }
` },
    { file: 'b.yaml', content: 'a: [1, 2\nb: c\n' },
    { file: 'c.json', content: '{"a": 1,, }' },
    { file: 'd.yaml', content: 'apiVersion: converge/v1\nkind: Gateway\nmetadata: {name: gateway}\nspec:\n  container: { image: img, port: 80, cpu: 256, memory: 512 }\n  settings: { timeout: 0s, cacheTTL: 5 , cors: { allowOrigins: ["*"], allowCredentials: true}, rateLimit: { maxRate: 0, strategy: header } }\n' },
  ];
  try { parseDesiredState(files, 'r'); } catch (e) { console.log(String(e)); }
});
