import { render } from 'preact';
import { Cluster } from './pages/cluster';
import { Directory } from './pages/directory';
import { InstancePage } from './pages/instance';
import { Owner } from './pages/owner';
import { Register } from './pages/register';
import { Route, useRoute } from './route';
import './styles.css';

const NAV: Array<{ href: string; label: string; page: Route['page'] }> = [
  { href: '#/', label: 'Instances', page: 'directory' },
  { href: '#/register', label: 'Register', page: 'register' },
  { href: '#/owner', label: 'Manage', page: 'owner' },
  { href: '#/cluster', label: 'Cluster', page: 'cluster' },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'instance':
      return <InstancePage instanceId={route.instanceId} />;
    case 'register':
      return <Register />;
    case 'owner':
      return <Owner />;
    case 'cluster':
      return <Cluster />;
    default:
      return <Directory />;
  }
}

function App() {
  const route = useRoute();
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <header>
        <a class="brand" href="#/">
          Model registry
        </a>
        <nav aria-label="Main">
          {NAV.map((item) => (
            <a href={item.href} aria-current={item.page === route.page ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
          <a href="/docs">API</a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading" note: render() would keep it below the app
render(<App />, root);
