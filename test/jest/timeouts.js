// Integration and end-to-end specs start databases, registries and agents: give hooks and tests room.
jest.setTimeout(Number(process.env.JEST_SLOW_TIMEOUT_MS ?? 60_000));
