/**
 * Two HTTP APIs over the same functions, both generated from the route table:
 *  - the key API, behind a Lambda authorizer (X-API-Key or Authorization: Bearer), with CORS for the web dashboard;
 *  - the IAM API, behind AWS_IAM, for workers that sign with SigV4 using their role.
 * Routes of scope `none` (/health, /auth/token) run without an authorizer; handlers check scopes.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionGroup, ROUTES } from '../../lib/http/routes';
import type { StageConfig } from '../config';

export interface HttpApisProps {
  config: StageConfig;
  groups: Record<FunctionGroup, IFunction>;
  authorizer: IFunction;
}

const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    latency: '$context.responseLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
    principal: '$context.authorizer.principal_id',
    iamUser: '$context.identity.userArn',
  }),
);

export class HttpApis extends Construct {
  readonly keyApi: HttpApi;
  readonly iamApi: HttpApi;

  constructor(scope: Construct, id: string, props: HttpApisProps) {
    super(scope, id);
    const { config } = props;
    const keyAuthorizer = new HttpLambdaAuthorizer('api-key', props.authorizer, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // No identity source: callers send X-API-Key or Authorization: Bearer, and API Gateway would
      // refuse a request missing any listed source before the authorizer could look at the other.
      // Allowed only with API Gateway's result cache off; the authorizer function caches verified
      // keys itself instead (BUILDSTATE_AUTH_CACHE_TTL_S, StageConfig.authCacheTtlSeconds), keyed
      // by the key's digest, so a warm authorizer answers without reading the table.
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });

    this.keyApi = this.api('KeyApi', 'BuildState API (API keys)', keyAuthorizer, props.groups, config, true);
    this.iamApi = this.api(
      'IamApi',
      'BuildState API (SigV4 / IAM)',
      new HttpIamAuthorizer(),
      props.groups,
      config,
      false,
    );
  }

  private api(
    id: string,
    description: string,
    authorizer: IHttpRouteAuthorizer,
    groups: Record<FunctionGroup, IFunction>,
    config: StageConfig,
    cors: boolean,
  ): HttpApi {
    const api = new HttpApi(this, id, {
      description,
      createDefaultStage: false,
      ...(cors
        ? {
            corsPreflight: {
              allowOrigins: config.corsOrigins,
              allowMethods: [
                CorsHttpMethod.GET,
                CorsHttpMethod.POST,
                CorsHttpMethod.PUT,
                CorsHttpMethod.DELETE,
              ],
              allowHeaders: ['content-type', 'x-api-key', 'authorization', 'idempotency-key', 'if-match'],
              exposeHeaders: ['etag', 'location', 'idempotent-replayed', 'retry-after'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    // An integration belongs to one API: each API gets its own, one per function group. Its
    // invoke permission names the API, not each route: a permission per route was ~180 of the
    // stack's resources, two short of CloudFormation's 500 (test/infra/stacks.test.ts keeps the
    // count). A function answers only its own routes (lib/http/dispatch.ts refuses the others).
    const integrations = Object.fromEntries(
      Object.entries(groups).map(([group, fn]) => [
        group,
        new HttpLambdaIntegration(`${id}-${group}`, fn, { scopePermissionToRoute: false }),
      ]),
    ) as Record<FunctionGroup, HttpLambdaIntegration>;
    for (const route of ROUTES) {
      const [created] = api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrations[route.group],
        authorizer: route.scope === 'none' ? new HttpNoneAuthorizer() : authorizer,
      });
      if (route.scope === 'none') {
        Validations.of(created!).acknowledge({
          id: 'AwsSolutions::AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} needs no credentials by design (${route.summary}); it exposes no stored data.`,
        });
      }
    }
    new HttpStage(this, `${id}Stage`, {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: config.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(
          new LogGroup(this, `${id}AccessLogs`, { retention: RetentionDays.THREE_MONTHS }),
        ),
        format: ACCESS_LOG_FORMAT,
      },
    });
    return api;
  }
}
