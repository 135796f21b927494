/**
 * The Creatio system settings that point Creatio at its Identity Service (group "OAuth 2.0"): the farm sets them when
 * it runs the service, so an environment file may not.
 */
export const OAUTH_SETTINGS = {
  url: "OAuth20IdentityServerUrl",
  clientId: "OAuth20IdentityServerClientId",
  /** SecureText: Creatio encrypts it, so it is set through Creatio's API. */
  clientSecret: "OAuth20IdentityServerClientSecret",
} as const;

export const OAUTH_SETTING_CODES: readonly string[] = Object.values(OAUTH_SETTINGS);
