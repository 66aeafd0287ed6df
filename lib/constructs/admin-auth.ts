import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { USER_GROUPS, type UserGroup } from '../declarations/routes';

export interface AdminAuthProps {
  /**
   * Where the admin SPA may send users back after sign-in and sign-out.
   * Placeholder until the admin-site issue wires the CloudFront URL in from config.
   */
  readonly callbackUrls?: readonly string[];
}

/** The SPA's redirect target until the admin site exists (see AdminAuthProps.callbackUrls). */
const PLACEHOLDER_CALLBACK_URLS = ['http://localhost:3000/'];

/**
 * The people who read the audit trail: a Cognito user pool of admins and
 * viewers (no self sign-up: an admin invites them), and the public client
 * the admin SPA signs in with (authorization code + PKCE, no secret).
 */
export class AdminAuth extends Construct {
  readonly userPool: cognito.UserPool;
  /** Public client for the admin SPA: authorization code grant; the SPA must send a PKCE challenge. */
  readonly spaClient: cognito.UserPoolClient;
  /** The `viewer` and `admin` groups; the query functions read them from the `cognito:groups` claim. */
  readonly groups: ReadonlyMap<UserGroup, cognito.UserPoolGroup>;

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

    const callbackUrls = [...(props.callbackUrls ?? PLACEHOLDER_CALLBACK_URLS)];
    this.spaClient = this.userPool.addClient('AdminSpaClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls,
        logoutUrls: callbackUrls,
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      // A working day: a stolen refresh token from the SPA's storage does not outlive it for long.
      refreshTokenValidity: Duration.hours(12),
    });
  }
}
