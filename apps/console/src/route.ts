import { useEffect, useState } from 'preact/hooks';

/** Pages live in the URL's hash, so every node serves them from `/` and a reload keeps the page. */
export type Route =
  | { page: 'directory' }
  | { page: 'instance'; instanceId: string }
  | { page: 'register' }
  | { page: 'owner' }
  | { page: 'cluster' };

export function parseRoute(hash: string): Route {
  const [page, arg] = hash.replace(/^#\/?/, '').split('/');
  if (page === 'i' && arg) return { page: 'instance', instanceId: decodeURIComponent(arg) };
  if (page === 'register' || page === 'owner' || page === 'cluster') return { page };
  return { page: 'directory' };
}

export const instanceHref = (instanceId: string) => `#/i/${encodeURIComponent(instanceId)}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => {
      setRoute(parseRoute(location.hash));
      window.scrollTo(0, 0);
    };
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
