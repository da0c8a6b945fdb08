import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/**
 * How callers of an API route prove who they are. Every route the library defines has one.
 */
export class ApiAuthorization {
  /**
   * Callers present a Cognito user pool token (the `sub` claim identifies them).
   *
   * @param userPool the user pool that issues the tokens
   * @param scopes OAuth scopes the access token must carry; without scopes an ID token is expected
   */
  public static cognito(userPool: cognito.IUserPool, scopes?: string[]): ApiAuthorization {
    return new ApiAuthorization('COGNITO', userPool, scopes);
  }

  /**
   * Callers sign requests with AWS Signature Version 4 (IAM users, roles, or Cognito identity
   * pool credentials); grant them `execute-api:Invoke` on the route.
   */
  public static iam(): ApiAuthorization {
    return new ApiAuthorization('IAM');
  }

  private readonly authorizers = new Map<string, apigw.IAuthorizer>();

  private constructor(
    /** `COGNITO` or `IAM`. */
    public readonly kind: string,
    /** The user pool, for Cognito authorization. */
    public readonly userPool?: cognito.IUserPool,
    /** The OAuth scopes required, for Cognito authorization. */
    public readonly scopes?: string[],
  ) {}

  /**
   * Method options that apply this authorization to a method of `api`. One authorizer is
   * created per REST API, in `scope`.
   *
   * @internal
   */
  public _methodOptions(scope: Construct, api: apigw.IRestApi): apigw.MethodOptions {
    if (this.kind === 'IAM') {
      return { authorizationType: apigw.AuthorizationType.IAM };
    }
    let authorizer = this.authorizers.get(api.restApiId);
    if (!authorizer) {
      authorizer = new apigw.CognitoUserPoolsAuthorizer(scope, 'Authorizer', {
        cognitoUserPools: [this.userPool!],
      });
      this.authorizers.set(api.restApiId, authorizer);
    }
    return {
      authorizationType: apigw.AuthorizationType.COGNITO,
      authorizer,
      authorizationScopes: this.scopes && this.scopes.length > 0 ? this.scopes : undefined,
    };
  }
}
