import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { RESERVED_DOMAIN_WORDS } from '../admin-site-config';
import { USER_GROUPS, type UserGroup } from '../declarations/routes';

export interface AdminAuthProps {
  /**
   * The hosted sign-in domain's prefix (`auditTrail.adminSite.domainPrefix`). Empty or absent:
   * `<stack name>-<8 hex digits of the stack's id>`, fixed for the life of the stack and unlikely to be taken.
   */
  readonly domainPrefix?: string;
}

/**
 * The people who read the audit trail: a Cognito user pool of admins and
 * viewers (no self sign-up: an admin invites them), its hosted sign-in
 * domain, and the public client the admin SPA signs in with (authorization
 * code + PKCE, no secret; `addSpaClient`, once the site's URL is known).
 */
export class AdminAuth extends Construct {
  readonly userPool: cognito.UserPool;
  /** The `viewer` and `admin` groups; the query functions read them from the `cognito:groups` claim. */
  readonly groups: ReadonlyMap<UserGroup, cognito.UserPoolGroup>;
  /** Cognito's hosted sign-in (classic hosted UI) at `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly domain: cognito.UserPoolDomain;
  /** `https://<prefix>.auth.<region>.amazoncognito.com`: sign-in, the token endpoint, `/logout`. */
  readonly domainUrl: string;
  /** `https://cognito-idp.<region>.amazonaws.com`, where the pool's issuer and OIDC discovery live. */
  readonly idpOrigin: string;
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>`: the tokens' issuer, the SPA's OIDC authority. */
  readonly issuer: string;

  private client?: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: AdminAuthProps = {}) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        passwordHistorySize: 5,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus: threat protection (compromised-credential and adaptive-authentication checks) on the accounts
      // that can read the whole audit trail. Priced per monthly active user, and this pool holds a handful of staff.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // What threat protection does about a risky sign-in: a second factor at medium risk (the user sets up TOTP
    // then if they have none), no sign-in without one at high risk, and never with a password known to be leaked.
    new cognito.CfnUserPoolRiskConfigurationAttachment(this, 'RiskConfiguration', {
      userPoolId: this.userPool.userPoolId,
      clientId: 'ALL',
      accountTakeoverRiskConfiguration: {
        actions: {
          lowAction: { eventAction: 'NO_ACTION', notify: false },
          mediumAction: { eventAction: 'MFA_IF_CONFIGURED', notify: false },
          highAction: { eventAction: 'MFA_REQUIRED', notify: false },
        },
      },
      compromisedCredentialsRiskConfiguration: { actions: { eventAction: 'BLOCK' } },
    });

    // On the pool's CloudFormation resource, not the L2, so the pool's clients (children of the L2) are not covered.
    Validations.of(this.userPool.node.defaultChild ?? this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'TOTP MFA is offered to every user but not forced, so an invited admin can sign in before enrolling an authenticator; ' +
        'adaptive authentication (the RiskConfiguration attachment) demands a second factor on medium- and high-risk sign-ins.',
    });

    // USER_GROUPS is in increasing power; Cognito's precedence 0 is the strongest.
    const groups = new Map<UserGroup, cognito.UserPoolGroup>();
    USER_GROUPS.forEach((group, i) => {
      groups.set(
        group,
        new cognito.UserPoolGroup(this, `Group-${group}`, {
          userPool: this.userPool,
          groupName: group,
          precedence: USER_GROUPS.length - 1 - i,
          description: group === 'admin' ? 'Reads the audit trail and manages rules and notifications' : 'Reads the audit trail',
        }),
      );
    });
    this.groups = groups;

    this.domain = this.userPool.addDomain('HostedSignIn', {
      cognitoDomain: { domainPrefix: props.domainPrefix || derivedDomainPrefix(this) },
    });
    this.domainUrl = this.domain.baseUrl();
    const stack = Stack.of(this);
    this.idpOrigin = `https://cognito-idp.${stack.region}.${stack.urlSuffix}`;
    this.issuer = `${this.idpOrigin}/${this.userPool.userPoolId}`;
  }

  /** Public client for the admin SPA: authorization code grant; the SPA must send a PKCE challenge. */
  get spaClient(): cognito.UserPoolClient {
    if (!this.client) throw new Error('AdminAuth: the SPA client is created by addSpaClient, once the site\'s URL is known');
    return this.client;
  }

  /**
   * Creates the admin SPA's client, sending people back to `callbackUrls` after sign-in and sign-out. Separate
   * from the constructor because the site's URL comes from its CloudFront distribution, which fronts the API,
   * whose authorizer needs this pool first.
   */
  addSpaClient(callbackUrls: readonly string[]): cognito.UserPoolClient {
    if (this.client) throw new Error('AdminAuth: the SPA client exists already');
    if (callbackUrls.length === 0) throw new Error('AdminAuth: the SPA client needs at least one callback URL');
    // Same id as when the constructor built it: the client (and so its id, which the SPA is configured with) is kept.
    this.client = this.userPool.addClient('AdminSpaClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [...callbackUrls],
        logoutUrls: [...callbackUrls],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      // A working day: a stolen refresh token from the SPA's storage does not outlive it for long.
      refreshTokenValidity: Duration.hours(12),
    });
    return this.client;
  }
}

/**
 * `<stack name>-<first 8 hex digits of the stack id's UUID>`, e.g. `audittrail-51af3dc0`. Prefix domains are global
 * per region, so the stack name alone would collide between accounts; the stack id is only known at deploy time,
 * so the suffix is CloudFormation's (Fn::Select/Fn::Split on AWS::StackId) and never changes for the stack.
 */
function derivedDomainPrefix(scope: Construct): string {
  const stack = Stack.of(scope);
  const name = stack.stackName
    .toLowerCase()
    .replace(new RegExp(RESERVED_DOMAIN_WORDS.source, 'g'), '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  // arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid> → <uuid> → its first group.
  const stackUuid = Fn.select(2, Fn.split('/', stack.stackId));
  const suffix = Fn.select(0, Fn.split('-', stackUuid));
  return Fn.join('-', [name || 'audit', suffix]);
}
