import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { BundlingOutput, DockerImage, Duration, FileSystem, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import type { AdminSiteSettings } from '../admin-site-config';
import {
  ADMIN_SITE_CONFIG_PATH,
  ADMIN_SITE_DIST,
  ADMIN_SITE_IMMUTABLE_PREFIX,
  ADMIN_SITE_SECURITY_HEADERS,
  adminSiteContentSecurityPolicy,
  type AdminSiteConfig,
} from '../declarations/admin-site';
import type { AdminAuth } from './admin-auth';
import type { AuditApi } from './api';
import { PRIVATE_BUCKET } from './private-bucket';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The SPA's sources: the folder `npm run frontend:build` builds into ADMIN_SITE_DIST. */
const FRONTEND_DIR = path.join(REPO_ROOT, path.dirname(ADMIN_SITE_DIST));

/**
 * What the SPA's build reads, relative to the repository root: its own folder, the repository files it imports
 * (lib/declarations/admin-site.ts, lambdas/core/event.ts, and what those import) and the locked dependencies.
 * Their fingerprint is the site asset's hash, so `cdk synth` rebuilds the SPA exactly when one of them changed
 * (test/infra/admin-site.test.ts checks that the SPA imports nothing from elsewhere).
 */
export const ADMIN_SITE_BUILD_INPUTS = [path.dirname(ADMIN_SITE_DIST), 'lib/declarations', 'lambdas/core', 'config', 'package-lock.json'] as const;

/** Cache-Control of the hashed files under ADMIN_SITE_IMMUTABLE_PREFIX (the local stack sends the same). */
const IMMUTABLE_CACHE_CONTROL = [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(Duration.days(365)), s3deploy.CacheControl.immutable()];
/** Everything else (index.html, config.json): revalidated on every load, so a deploy shows at once. */
const ENTRY_CACHE_CONTROL = [s3deploy.CacheControl.noCache()];

/** The Docker fallback of the SPA's build (no local `node_modules/vite`): a clean install of the locked dependencies. */
const DOCKER_BUILD = [
  'set -euo pipefail',
  // Copied out of the mounted repository: the host's node_modules may hold another platform's native binaries.
  'mkdir -p /tmp/src',
  `tar -C /asset-input --exclude=./node_modules --exclude=./cdk.out --exclude=./.git --exclude=./${ADMIN_SITE_DIST} -cf - . | tar -C /tmp/src -xf -`,
  'cd /tmp/src',
  'npm ci --ignore-scripts --no-audit --no-fund',
  `cd ${path.dirname(ADMIN_SITE_DIST)}`,
  'node ../node_modules/vite/bin/vite.js build --outDir /asset-output --emptyOutDir',
].join(' && ');

export interface AdminSiteProps {
  readonly settings: AdminSiteSettings;
  /** `retain` keeps the site's buckets (and their files) when the stack is deleted, like every other bucket. */
  readonly removalPolicy: 'retain' | 'destroy';
  /** The REST API, served by the same distribution under `/v1/*`. */
  readonly api: AuditApi;
  /** The user pool: the SPA's client is created here, with the distribution's URL as its callback. */
  readonly adminAuth: AdminAuth;
  /** Where the site's buckets send their S3 server access logs (the archive's access-log bucket). */
  readonly accessLogs: s3.IBucket;
  /**
   * A finished build of the SPA (index.html at its root, hashed files under `assets/`), deployed as is. Absent:
   * the SPA is built from frontend/ during synthesis (Vite, locally or in Docker). Tests set a stub here.
   */
  readonly prebuilt?: string;
}

/**
 * The admin SPA on AWS (issue 7): a private S3 bucket of the built files,
 * read only by a CloudFront distribution through origin access control; the
 * same distribution forwards `/v1/*` to the REST API, so the SPA and its API
 * share one origin exactly as on the local stack.
 *
 * The SPA reads `config.json` at start (lib/declarations/admin-site.ts): the
 * stack writes it next to the build with the user pool's issuer, the SPA
 * client's id, the hosted sign-in domain and the site's own URL as the
 * redirect. Hashed files under `assets/` are cached for a year; index.html
 * and config.json are revalidated on every load and invalidated at deploy.
 * Every response carries the CSP and security headers the local stack sends.
 */
export class AdminSite extends Construct {
  /** The built SPA and its config.json. */
  readonly bucket: s3.Bucket;
  /** CloudFront's standard logs (one line per request, API requests included). */
  readonly logBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** `https://<distribution domain>/`, the SPA's address and its sign-in redirect. */
  readonly url: string;
  /** What `config.json` holds (deploy-time values as tokens). */
  readonly config: AdminSiteConfig;
  /** Puts the hashed files under `assets/` (first), then index.html and config.json (which name them). */
  readonly assetsDeployment: s3deploy.BucketDeployment;
  readonly entryDeployment: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: AdminSiteProps) {
    super(scope, id);
    const retain = props.removalPolicy === 'retain';
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const { adminAuth } = props;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...PRIVATE_BUCKET,
      // Not versioned: every file is rebuilt from the repository, and old hashed files are kept anyway (prune off below).
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'admin-site/',
      removalPolicy,
    });

    this.logBucket = new s3.Bucket(this, 'CloudFrontLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...PRIVATE_BUCKET,
      // CloudFront's standard logs are written by its log delivery account under a bucket ACL grant, which
      // BUCKET_OWNER_ENFORCED (ACLs disabled) forbids; with BUCKET_OWNER_PREFERRED the bucket still owns the logs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'admin-site-cloudfront-logs/',
      // A year, like the API's access log: who loaded the admin and called the API through it.
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
      removalPolicy,
    });

    const h = ADMIN_SITE_SECURITY_HEADERS;
    this.responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Admin site and its API: CSP, HSTS, no framing, nosniff, referrer policy (lib/declarations/admin-site.ts)',
      securityHeadersBehavior: {
        // The SPA calls its own origin (the API below) and Cognito: the hosted domain's token endpoint, the pool's discovery.
        contentSecurityPolicy: { contentSecurityPolicy: adminSiteContentSecurityPolicy([adminAuth.domainUrl, adminAuth.idpOrigin]), override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(h.strictTransportSecurity.maxAgeSeconds),
          includeSubdomains: h.strictTransportSecurity.includeSubdomains,
          override: true,
        },
        frameOptions: { frameOption: frameOption(h.frameOptions), override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: referrerPolicy(h.referrerPolicy), override: true },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${Stack.of(this).stackName} admin site`,
      defaultRootObject: 'index.html',
      // The SPA routes with the hash (`/#/events/<id>`): every path the browser asks for is a real file, so no
      // error response rewrites 403/404 to index.html (which would also hide real misses).
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        compress: true,
        // Honours the files' Cache-Control (a year for assets/, no-cache for index.html and config.json).
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeadersPolicy,
      },
      additionalBehaviors: {
        // The API on the site's own origin, exactly as the local stack serves it: the admin routes need no CORS and
        // the CSP's connect-src stays 'self'. Apps may still post to the API Gateway URL directly.
        '/v1/*': {
          origin: new origins.RestApiOrigin(props.api.api),
          // No silent redirect for an API: a POST over plain HTTP fails instead of being replayed as a GET.
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          // Everything the viewer sent (Authorization, x-api-key, the query) except Host, which API Gateway routes on.
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.responseHeadersPolicy,
        },
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    const client = adminAuth.addSpaClient([this.url, ...props.settings.extraCallbackUrls]);
    this.config = {
      // The site's own origin: `/v1/*` above.
      apiUrl: '',
      auth: { mode: 'cognito', authority: adminAuth.issuer, clientId: client.userPoolClientId, redirectUri: this.url, domain: adminAuth.domainUrl },
    };

    const site = props.prebuilt ? prebuiltSite(props.prebuilt) : builtSite();
    const immutableFiles = `${ADMIN_SITE_IMMUTABLE_PREFIX.replace(/^\/+/, '')}*`;
    // Shared by both deployments, which share one handler function (a stack singleton of aws-cdk-lib's). Its own role
    // instead of AWSLambdaBasicExecutionRole: logs go to this group only; BucketDeployment adds its S3 and CloudFront grants.
    const deploymentLogs = new logs.LogGroup(this, 'DeploymentLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
    const deploymentRole = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Admin site deployment: copies the built SPA into its bucket and invalidates index.html and config.json',
    });
    deploymentRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [deploymentLogs.logGroupArn] }),
    );
    this.assetsDeployment = new s3deploy.BucketDeployment(this, 'DeployAssets', {
      sources: [site],
      destinationBucket: this.bucket,
      exclude: ['*'],
      include: [immutableFiles],
      cacheControl: IMMUTABLE_CACHE_CONTROL,
      // Old hashed files stay: a tab opened before a deploy can still load the chunks its index.html names.
      prune: false,
      retainOnDelete: retain,
      logGroup: deploymentLogs,
      role: deploymentRole,
    });
    this.entryDeployment = new s3deploy.BucketDeployment(this, 'DeployEntry', {
      sources: [site, s3deploy.Source.jsonData(ADMIN_SITE_CONFIG_PATH.replace(/^\/+/, ''), this.config)],
      destinationBucket: this.bucket,
      // Neither uploaded nor pruned here.
      exclude: [immutableFiles],
      cacheControl: ENTRY_CACHE_CONTROL,
      retainOnDelete: retain,
      logGroup: deploymentLogs,
      role: deploymentRole,
      distribution: this.distribution,
      // `/` too: CloudFront caches the default root object under the path the viewer asked for.
      distributionPaths: ['/', '/index.html', ADMIN_SITE_CONFIG_PATH],
    });
    // A new index.html must never name hashed files that are not there yet.
    this.entryDeployment.node.addDependency(this.assetsDeployment);

    this.acknowledgeFindings(deploymentRole);
  }

  private acknowledgeFindings(deploymentRole: iam.Role): void {
    Validations.of(cfn(this.distribution)).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        "The distribution uses CloudFront's default *.cloudfront.net certificate, whose security policy is fixed at TLSv1 (a minimum protocol " +
        'needs a custom domain and an ACM certificate in us-east-1). Browsers negotiate TLS 1.2 or 1.3 with it; HSTS keeps them on HTTPS.',
    });
    Validations.of(cfn(this.distribution)).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'No geo restriction: admins and viewers may work from anywhere, the site is static files, and every API route behind /v1/* ' +
        'needs a Cognito token or an app key.',
    });
    Validations.of(cfn(this.distribution)).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'No WAF web ACL, like the API stage (AwsSolutions-APIG3): a CloudFront web ACL must live in us-east-1 and costs monthly; ' +
        'the static files are public by design and /v1/* is authorized and throttled by API Gateway.',
    });

    // BucketDeployment's grants, written by aws-cdk-lib on the role it is given.
    const policy = deploymentRole.node.tryFindChild('DefaultPolicy');
    if (!policy) throw new Error('AdminSite: the deployment role has no policy');
    const siteBucket = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const grants: Record<string, string> = {
      'Action::s3:GetObject*': 'reads the build and config.json from the CDK asset bucket, and objects in the site bucket for the sync',
      'Action::s3:GetBucket*': 'reads the location and settings of the asset and site buckets for the sync',
      'Action::s3:List*': 'lists the site bucket to compute what to upload and, with prune, what to delete',
      'Action::s3:DeleteObject*': 'prunes files that are no longer part of the build from the site bucket (grantReadWrite)',
      'Action::s3:Abort*': 'aborts its own failed multipart uploads into the site bucket (grantReadWrite)',
      'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*':
        "reads the deployment's zipped sources, whose keys are content hashes, from the CDK bootstrap asset bucket",
      [`Resource::<${siteBucket}.Arn>/*`]: 'writes and prunes every file of the site, which is the whole bucket',
      'Resource::*': 'may create and read CloudFront invalidations (of index.html and config.json), which the library grants on * and not on the distribution',
    };
    for (const [finding, what] of Object.entries(grants)) {
      Validations.of(cfn(policy)).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `aws-cdk-lib's BucketDeployment handler (admin site only) ${what}; the wildcards are the library's, on these two buckets and one distribution.`,
      });
    }
    // The handler function itself: a stack singleton aws-cdk-lib creates at the stack's root.
    const handlers = Stack.of(this)
      .node.children.filter((child): child is lambda.Function => child instanceof lambda.Function && child.node.id.startsWith('Custom::CDKBucketDeployment'));
    for (const handler of handlers) {
      Validations.of(cfn(handler)).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          "The Python runtime of aws-cdk-lib's BucketDeployment handler is set by the library (no property to choose it); it moves with " +
          'aws-cdk-lib upgrades. The function only runs during deployments, to copy the admin site into its bucket.',
      });
    }
  }
}

/** A build that exists already (`npm run frontend:build`'s output, or a test's stub). */
function prebuiltSite(directory: string): s3deploy.ISource {
  const root = path.resolve(directory);
  if (!existsSync(path.join(root, 'index.html'))) throw new Error(`AdminSite: ${root} has no index.html (not a build of the SPA)`);
  return s3deploy.Source.asset(root);
}

/**
 * The SPA built during synthesis, as a CDK bundled asset: Vite from the repository's node_modules when it is
 * installed (synchronously, into the asset's output directory), else the same build in a Node.js container.
 * Hashed from the build's inputs, so an unchanged SPA is not rebuilt (or re-uploaded).
 */
function builtSite(): s3deploy.ISource {
  return s3deploy.Source.asset(REPO_ROOT, {
    assetHash: buildInputsHash(),
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
      command: ['bash', '-c', DOCKER_BUILD],
      // The container runs as the host's user, whose home is not writable there.
      environment: { HOME: '/tmp', npm_config_cache: '/tmp/.npm', npm_config_update_notifier: 'false' },
      outputType: BundlingOutput.NOT_ARCHIVED,
      local: { tryBundle: (outputDir) => viteBuild(outputDir) },
    },
  });
}

function viteBuild(outputDir: string): boolean {
  const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) return false;
  // Vite finds frontend/'s own config file (vite.config.*) from the working directory.
  const result = spawnSync(process.execPath, [vite, 'build', '--outDir', outputDir, '--emptyOutDir'], {
    cwd: FRONTEND_DIR,
    // Vite's output to stderr: the CDK CLI reads the app's stdout.
    stdio: ['ignore', process.stderr, 'inherit'],
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`The admin SPA did not build (vite build in ${FRONTEND_DIR} exited with ${result.status ?? result.signal})`);
  return true;
}

function buildInputsHash(): string {
  const hash = createHash('sha256');
  for (const input of ADMIN_SITE_BUILD_INPUTS) {
    const full = path.join(REPO_ROOT, input);
    hash.update(input);
    hash.update(existsSync(full) ? FileSystem.fingerprint(full, statSync(full).isDirectory() ? { exclude: ['node_modules', 'dist'] } : {}) : 'absent');
  }
  return hash.digest('hex');
}

function frameOption(value: string): cloudfront.HeadersFrameOption {
  const option = Object.values(cloudfront.HeadersFrameOption).find((o) => o === value);
  if (!option) throw new Error(`CloudFront has no frame option ${value}`);
  return option;
}

function referrerPolicy(value: string): cloudfront.HeadersReferrerPolicy {
  const policy = Object.values(cloudfront.HeadersReferrerPolicy).find((p) => p === value);
  if (!policy) throw new Error(`CloudFront has no referrer policy ${value}`);
  return policy;
}

/** The CloudFormation resource under an L2: acknowledgements go there, so they cover that one resource. */
function cfn(construct: IConstruct): IConstruct {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no CloudFormation resource to acknowledge a finding on`);
  return resource;
}
