import { validateSync } from 'class-validator';
import { IsTimestamp } from './is-timestamp';

class Sample {
  @IsTimestamp()
  at!: unknown;
}

const problems = (at: unknown) => {
  const sample = new Sample();
  sample.at = at;
  return validateSync(sample).map((e) => Object.values(e.constraints ?? {}).join());
};

describe('IsTimestamp', () => {
  it('accepts the ISO 8601 forms new Date() reads', () => {
    for (const at of ['2099-01-01', '2099-01-01T00:00:00Z', '2099-01-01T00:00:00.123+02:00', '2099-01'])
      expect([at, problems(at)]).toEqual([at, []]);
  });

  it('refuses ISO 8601 forms new Date() cannot read, and non-strings, naming the field', () => {
    for (const at of ['2099-W01-1', '20990101', '20990101T000000Z', 'tomorrow', 4070908800000, null])
      expect([at, problems(at)]).toEqual([at, [expect.stringMatching(/^at must be an ISO 8601 date/)]]);
  });
});
