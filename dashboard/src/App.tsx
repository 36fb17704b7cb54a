import { Suspense, lazy, useEffect, useMemo, useState } from 'react';
import { Provider, useQuery } from 'urql';
import type { Auth } from './auth';
import type { DashboardConfig } from './config';
import { createClient } from './client';
import { Link, navigate, useLocation } from './router';
import { SessionContext, useSession } from './session';
import { MeQuery } from './ops/signed-in/me';
import { orgKindLabel } from './labels';
import { Loading, Notice } from './components/Notice';

const Land = lazy(() => import('./views/Land'));
const Regio = lazy(() => import('./views/Regio'));
const Tafel = lazy(() => import('./views/Tafel'));
const Signalen = lazy(() => import('./views/Signalen'));
const Publiek = lazy(() => import('./views/Publiek'));
const Toegankelijkheid = lazy(() => import('./views/Toegankelijkheid'));

const NAV = [
  { href: '/', label: 'Land', match: (p: string) => p === '/' },
  { href: '/regio', label: 'Regio', match: (p: string) => p.startsWith('/regio') },
  { href: '/landelijke-tafel', label: 'Landelijke tafel', match: (p: string) => p.startsWith('/landelijke-tafel') },
  { href: '/vroegsignalering', label: 'Vroegsignalering', match: (p: string) => p.startsWith('/vroegsignalering') },
  { href: '/publiek', label: 'Publiek', match: (p: string) => p.startsWith('/publiek') },
];

export function App({ auth, config }: { auth: Auth; config: DashboardConfig }) {
  const [token, setToken] = useState(auth.user?.access_token);
  const [expired, setExpired] = useState(false);
  const client = useMemo(
    () =>
      createClient(config.graphqlPath, token, () => {
        void auth.forget().then(() => {
          setExpired(true);
          setToken(undefined);
        });
      }),
    [config.graphqlPath, token, auth],
  );
  const anonymousClient = useMemo(() => createClient(config.graphqlPath, undefined, () => undefined), [config.graphqlPath]);

  // A session also ends when its token's lifetime is over, while the page is open.
  useEffect(() => {
    const expiresIn = auth.user?.expires_in;
    if (!token || expiresIn === undefined) return;
    const timer = window.setTimeout(() => {
      void auth.forget().then(() => {
        setExpired(true);
        setToken(undefined);
      });
    }, Math.max(0, expiresIn * 1000));
    return () => window.clearTimeout(timer);
  }, [token, auth]);

  const session = { auth, signedIn: !!token, anonymousClient, sessionExpired: expired };
  return (
    <SessionContext.Provider value={session}>
      <Provider value={client}>
        <Layout />
      </Provider>
    </SessionContext.Provider>
  );
}

function Layout() {
  const { path } = useLocation();
  useEffect(() => {
    const main = document.getElementById('main');
    if (main && document.activeElement !== document.body) main.focus();
  }, [path]);
  return (
    <div className="page">
      <a className="skip-link" href="#main">
        Naar de inhoud
      </a>
      <header className="page-header">
        <div className="page-header__inner">
          <p className="brand">
            <Link href="/" className="brand__link">
              ggzhub <span className="brand__sub">cruciale ggz in beeld</span>
            </Link>
          </p>
          <Account />
        </div>
        <nav aria-label="Hoofdmenu" className="main-nav">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} className="main-nav__link" aria-current={n.match(path) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1} className="page-main">
        <ExpiredNotice />
        <Suspense fallback={<Loading what="De pagina en gegevens" />}>
          <Route path={path} />
        </Suspense>
      </main>
      <footer className="page-footer">
        <p>
          Gegevens uit de ggzhub: wat zorgaanbieders, zorgverzekeraars en regio’s zelf delen. Zonder gegevens over
          patiënten. <Link href="/toegankelijkheid">Toegankelijkheid</Link> ·{' '}
          <a href="/graphql">GraphQL voor ontwikkelaars</a>
        </p>
      </footer>
    </div>
  );
}

function Route({ path }: { path: string }) {
  if (path === '/' || path === '/land') return <Land />;
  if (path === '/regio' || path.startsWith('/regio/')) return <Regio code={decodeURIComponent(path.slice('/regio/'.length))} />;
  if (path.startsWith('/landelijke-tafel')) return <Tafel />;
  if (path.startsWith('/vroegsignalering')) return <Signalen />;
  if (path.startsWith('/publiek')) return <Publiek code={decodeURIComponent(path.slice('/publiek/'.length))} />;
  if (path.startsWith('/toegankelijkheid')) return <Toegankelijkheid />;
  if (path === '/auth/callback') return <Callback />;
  return (
    <>
      <h1 className="utrecht-heading-1">Pagina niet gevonden</h1>
      <p>
        Deze pagina bestaat niet. Ga naar <Link href="/">het overzicht van het land</Link>.
      </p>
    </>
  );
}

function Callback() {
  const { auth } = useSession();
  const [error, setError] = useState<string>();
  useEffect(() => {
    auth
      .completeSignIn()
      .then((returnTo) => {
        window.location.replace(returnTo);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [auth]);
  if (error) {
    return (
      <Notice kind="error">
        <p>Inloggen is niet gelukt. Probeer het opnieuw.</p>
        <p className="small">({error})</p>
      </Notice>
    );
  }
  return <Loading what="Uw inloggegevens" />;
}

function ExpiredNotice() {
  const { sessionExpired, signedIn, auth } = useSession();
  if (!sessionExpired || signedIn) return null;
  return (
    <Notice kind="warning">
      <p>
        <strong>Uw sessie is verlopen.</strong> U ziet nu alleen openbare gegevens. Log opnieuw in om verder te gaan; u komt
        terug op deze pagina.
      </p>
      <button type="button" className="utrecht-button utrecht-button--primary-action" onClick={() => void auth.signIn(currentPath())}>
        Opnieuw inloggen
      </button>
    </Notice>
  );
}

const currentPath = () => window.location.pathname + window.location.search;

function Account() {
  const { auth, signedIn } = useSession();
  if (!auth.enabled) return <p className="account">Openbare gegevens</p>;
  if (!signedIn) {
    return (
      <div className="account">
        <span>U bent niet ingelogd.</span>{' '}
        <button type="button" className="utrecht-button utrecht-button--primary-action" onClick={() => void auth.signIn(currentPath())}>
          Inloggen
        </button>
      </div>
    );
  }
  return <SignedIn />;
}

function SignedIn() {
  const { auth } = useSession();
  const [me] = useQuery({ query: MeQuery });
  const profile = auth.user?.profile as Record<string, unknown> | undefined;
  const person = me.data?.me?.person ?? (profile?.name as string | undefined) ?? (profile?.sub as string | undefined) ?? 'onbekend';
  const org = me.data?.me?.organisation;
  const orgText = org
    ? `${org.name} (${orgKindLabel[org.kind] ?? org.kind})`
    : ((profile?.org_name as string | undefined) ?? (profile?.org_identifier ? `organisatie ${String(profile.org_identifier)}` : 'onbekende organisatie'));
  return (
    <div className="account">
      <p className="account__who">
        Ingelogd: <strong>{person}</strong> voor <strong>{orgText}</strong>
      </p>
      <button
        type="button"
        className="utrecht-button utrecht-button--secondary-action"
        onClick={() => {
          void auth.signOut().then(() => navigate('/', true));
        }}
      >
        Uitloggen
      </button>
    </div>
  );
}
