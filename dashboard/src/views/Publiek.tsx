import { Provider } from 'urql';
import { useSession } from '../session';
import { RegionPage, RegionPicker } from './Regio';

/**
 * What patient organisations and the public see, without signing in: always through a client that
 * sends no token, so the gateway answers from the public contract schema, and only with the
 * dashboard's own operations (the trusted-documents manifest).
 */
export default function Publiek({ code }: { code: string }) {
  const { anonymousClient } = useSession();
  return (
    <Provider value={anonymousClient}>
      {code ? (
        <>
          <p className="public-banner">Openbare gegevens: wat iedereen mag zien, zonder in te loggen.</p>
          <RegionPage code={code} base="/publiek" publicOnly />
        </>
      ) : (
        <>
          <h1 className="utrecht-heading-1">Publiek: de zorg in uw regio</h1>
          <p className="lead">
            Hier ziet u zonder inloggen welke cruciale ggz er in uw regio is, hoe lang de wachttijden zijn en wat de regio zelf
            over de zorg zegt. Cruciale ggz is zorg voor mensen met de zwaarste psychische problemen.
          </p>
          <RegionPicker base="/publiek" label="Uw regio" />
        </>
      )}
    </Provider>
  );
}
