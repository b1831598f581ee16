/**
 * Stands in for @aws-sdk/credential-provider-node inside Lambda bundles (an esbuild alias, see
 * infra/constructs/service-function.ts). Lambda always hands a function its execution role's
 * credentials in the environment, so the default chain's other sources (SSO, INI files, STS web
 * identity, IMDS, container endpoints) and their nested clients are dead weight there: about a
 * fifth of a bundle. Anywhere else (local runs, tests, scripts) the real chain is used.
 */
interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const defaultProvider = () => async (): Promise<Credentials> => {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY)
    throw new Error('No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
};
export const credentialsTreatedAsExpired = () => false;
export const credentialsWillNeedRefresh = () => false;
