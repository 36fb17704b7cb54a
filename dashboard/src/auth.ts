import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';
import type { DashboardConfig } from './config';

/** Sign-in with OpenID Connect Authorization Code + PKCE (oidc-client-ts), session in sessionStorage. */
export interface Auth {
  enabled: boolean;
  user: User | null;
  signIn(returnTo: string): Promise<void>;
  signOut(): Promise<void>;
  /** Completes the redirect from the identity provider; returns the path to go back to. */
  completeSignIn(): Promise<string>;
  /** Forget an expired or refused session, keeping the page where it is. */
  forget(): Promise<void>;
}

export async function createAuth(config: DashboardConfig): Promise<Auth> {
  if (!config.issuer) {
    return {
      enabled: false,
      user: null,
      signIn: async () => undefined,
      signOut: async () => undefined,
      completeSignIn: async () => '/',
      forget: async () => undefined,
    };
  }
  const origin = window.location.origin;
  const manager = new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: `${origin}/auth/callback`,
    post_logout_redirect_uri: `${origin}/`,
    response_type: 'code',
    scope: ['openid', config.scope].filter(Boolean).join(' '),
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: false,
    loadUserInfo: false,
  });
  let user = await manager.getUser();
  if (user?.expired) {
    await manager.removeUser();
    user = null;
  }
  const auth: Auth = {
    enabled: true,
    user,
    signIn: (returnTo) => manager.signinRedirect({ state: { returnTo } }),
    signOut: async () => {
      const current = auth.user;
      await manager.removeUser();
      auth.user = null;
      try {
        await manager.signoutRedirect({ id_token_hint: current?.id_token });
      } catch {
        window.location.assign('/');
      }
    },
    completeSignIn: async () => {
      const signedIn = await manager.signinRedirectCallback();
      auth.user = signedIn;
      const state = signedIn.state as { returnTo?: string } | undefined;
      return state?.returnTo && state.returnTo.startsWith('/') ? state.returnTo : '/';
    },
    forget: async () => {
      await manager.removeUser();
      auth.user = null;
    },
  };
  return auth;
}
