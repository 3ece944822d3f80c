/** Secrets live in this tab's session storage only: gone when the tab closes, never in localStorage. */
function read(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Storage disabled: the value lasts until the page is left, which is still correct.
  }
}

export interface OwnerSession {
  instanceId: string;
  password: string;
}

export const ownerSession = {
  get(): OwnerSession | null {
    const raw = read('owner');
    if (!raw) return null;
    try {
      return JSON.parse(raw) as OwnerSession;
    } catch {
      return null;
    }
  },
  set(session: OwnerSession | null): void {
    write('owner', session ? JSON.stringify(session) : null);
  },
};

export const instanceKey = {
  get: (instanceId: string) => read(`key:${instanceId}`) ?? '',
  set: (instanceId: string, key: string) => write(`key:${instanceId}`, key || null),
};

export const adminToken = {
  get: () => read('admin-token') ?? '',
  set: (token: string) => write('admin-token', token || null),
};
