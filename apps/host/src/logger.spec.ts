import { PassThrough } from 'node:stream';
import { createConsoleLogger } from './logger';

function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = (stream: PassThrough) => (stream.read() as Buffer | null)?.toString() ?? '';
  return { out, err, stdout: () => text(out), stderr: () => text(err) };
}

describe('createConsoleLogger', () => {
  const now = () => new Date('2026-12-10T08:00:00.000Z');

  it('prints a timestamped line for people; warnings and errors on stderr', () => {
    const c = capture();
    const logger = createConsoleLogger({ out: c.out, err: c.err, now });
    logger.info('connected');
    logger.warn('slow');
    logger.debug('hidden at the default level');
    expect(c.stdout()).toBe('2026-12-10T08:00:00.000Z connected\n');
    expect(c.stderr()).toBe('2026-12-10T08:00:00.000Z warn: slow\n');
  });

  it('with format json, prints one object per line with the registry fields', () => {
    const c = capture();
    const logger = createConsoleLogger({ out: c.out, err: c.err, now, format: 'json', level: 'debug' });
    logger.info('connected to "x"\nand more');
    logger.debug('detail');
    logger.error('refused');
    const lines = c.stdout().trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        level: 'log',
        pid: process.pid,
        timestamp: now().getTime(),
        message: 'connected to "x"\nand more',
        context: 'agent',
      },
      { level: 'debug', pid: process.pid, timestamp: now().getTime(), message: 'detail', context: 'agent' },
    ]);
    expect(JSON.parse(c.stderr())).toMatchObject({ level: 'error', message: 'refused' });
  });
});
