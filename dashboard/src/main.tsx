import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@utrecht/design-tokens/dist/index.css';
import '@utrecht/component-library-css/dist/index.css';
import './styles.css';
import { loadConfig } from './config';
import { createAuth } from './auth';
import { App } from './App';

async function start() {
  const config = await loadConfig();
  const auth = await createAuth(config);
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App auth={auth} config={config} />
    </StrictMode>,
  );
}

void start();
