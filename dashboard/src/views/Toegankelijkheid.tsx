export default function Toegankelijkheid() {
  return (
    <>
      <h1 className="utrecht-heading-1">Toegankelijkheid</h1>
      <p className="lead">Iedereen moet dit dashboard kunnen gebruiken, ook met een schermlezer of alleen een toetsenbord.</p>
      <h2 className="utrecht-heading-2">Wat we doen</h2>
      <ul className="utrecht-unordered-list">
        <li className="utrecht-unordered-list__item">We volgen de richtlijnen WCAG 2.1 op niveau AA (EN 301 549).</li>
        <li className="utrecht-unordered-list__item">Bij elke kaart en grafiek staat een tabel met dezelfde cijfers. Elke tabel kunt u downloaden als CSV-bestand.</li>
        <li className="utrecht-unordered-list__item">Kleur is nooit de enige manier om iets te laten zien: er staat ook altijd een getal of woord bij.</li>
        <li className="utrecht-unordered-list__item">Elke pagina zegt van wanneer de gegevens zijn.</li>
        <li className="utrecht-unordered-list__item">Elke pagina wordt bij elke wijziging automatisch getest met axe-core in een echte browser.</li>
      </ul>
      <h2 className="utrecht-heading-2">Bekende beperkingen</h2>
      <p>De kaart is een schema: de vakjes zijn geen echte grenzen van de regio’s.</p>
      <h2 className="utrecht-heading-2">Contact</h2>
      <p>Loopt u tegen een probleem aan? Meld het bij de beheerder van de ggzhub.</p>
    </>
  );
}
