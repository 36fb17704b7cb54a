/** Runtime configuration, served by the gateway at /dashboard-config.json (see dashboard/README.md). */
export interface DashboardConfig {
  /** OpenID Connect issuer the dashboard signs in with; sign-in is off when absent. */
  issuer?: string;
  /** Public client id registered at the issuer. */
  clientId: string;
  /** Path of the GraphQL endpoint on this origin. */
  graphqlPath: string;
  /** Extra scope to ask for, besides `openid`. */
  scope?: string;
}

const defaults: DashboardConfig = { clientId: 'ggzhub-dashboard', graphqlPath: '/graphql' };

export async function loadConfig(): Promise<DashboardConfig> {
  try {
    const response = await fetch('/dashboard-config.json', { headers: { accept: 'application/json' } });
    if (!response.ok) return defaults;
    const body = (await response.json()) as Partial<DashboardConfig>;
    return { ...defaults, ...body };
  } catch {
    return defaults;
  }
}
