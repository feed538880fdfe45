/**
 * The AWS reads preflight makes, in one module that src/preflight/preflight.ts imports on first use:
 * a process that never has a workload to deploy (a `plan` of an environment in sync, `converge
 * status`) never loads the ECR, IAM, SSM and Secrets Manager SDK packages (see src/aws/clients.ts).
 */
export { describeCertificateNames } from '../aws/acm-names.js';
export { findImages } from '../aws/ecr.js';
export { getRole } from '../aws/iam.js';
export { describeRouteTables, describeVpcEndpoints } from '../aws/route-tables.js';
export { describeSecret } from '../aws/secret-metadata.js';
export { existingParameters } from '../aws/ssm.js';
