import { createContext, useContext } from 'react';
import type { Client } from '@urql/core';
import type { Auth } from './auth';

export interface Session {
  auth: Auth;
  signedIn: boolean;
  /** A client that never sends a token: the public view shows exactly what the public sees. */
  anonymousClient: Client;
  sessionExpired: boolean;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('no session');
  return session;
}
