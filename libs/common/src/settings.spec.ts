import { ConfigError } from './config-error';
import { parseBoolSetting, parseChoiceSetting, parseIntSetting, switchWord } from './settings';

describe('settings shared by the registry and the agent', () => {
  it.each([
    ['1', true],
    ['true', true],
    ['YES', true],
    [' yes ', true],
    ['0', false],
    ['False', false],
    ['no', false],
  ])('reads %j as %s', (raw, expected) => {
    expect(switchWord(raw)).toBe(expected);
    expect(parseBoolSetting('X', raw, !expected)).toBe(expected);
  });

  it('falls back when absent or blank and names a value that is neither yes nor no', () => {
    expect(parseBoolSetting('X', undefined, true)).toBe(true);
    expect(parseBoolSetting('X', '  ', false)).toBe(false);
    expect(switchWord('on')).toBeUndefined();
    expect(() => parseBoolSetting('HOST_VERBOSE', 'on', false)).toThrow(
      new ConfigError('HOST_VERBOSE must be true or false (also 1/0, yes/no), got "on"'),
    );
  });

  it('reads whole numbers within bounds', () => {
    expect(parseIntSetting('N', undefined, 7, 1, 10)).toBe(7);
    expect(parseIntSetting('N', ' 10 ', 7, 1, 10)).toBe(10);
    expect(parseIntSetting('N', '-2', 7, -5, 10)).toBe(-2);
    expect(() => parseIntSetting('N', '1.5', 7, 1, 10)).toThrow('N must be a whole number, got "1.5"');
    expect(() => parseIntSetting('N', '11', 7, 1, 10)).toThrow('N must be between 1 and 10, got 11');
  });

  it('reads one of a set of words', () => {
    expect(parseChoiceSetting('F', undefined, ['text', 'json'], 'text')).toBe('text');
    expect(parseChoiceSetting('F', 'json', ['text', 'json'], 'text')).toBe('json');
    expect(() => parseChoiceSetting('F', 'xml', ['text', 'json'], 'text')).toThrow(
      'F must be one of text, json, got "xml"',
    );
  });
});
