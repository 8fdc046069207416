// The robfig-compatible cron parser: accepted schedules, exact error texts, and next activation times.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronParseError, loadLocationError, nextActivation, parseStandard } from './cron.js';

describe('parseStandard accepts what robfig accepts', () => {
  for (const spec of ['* * * * *', '*/5 * * * *', '0 0 1 1 *', '0 9-17/2 * * mon-fri', '30 4 1,15 * ?', '0 0 * JAN,jul SUN', '@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '@every 1h30m', 'TZ=UTC 0 * * * *', '5/15 * * * *'])
    test(spec, () => {
      assert.doesNotThrow(() => parseStandard(spec));
    });
});

describe('parseStandard errors carry robfig messages', () => {
  const cases: [string, string][] = [
    ['', 'empty spec string'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['* * * * * *', 'expected exactly 5 fields, found 6: [* * * * * *]'],
    ['61 * * * *', 'end of range (61) above maximum (59): 61'],
    ['* 24 * * *', 'end of range (24) above maximum (23): 24'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['* * * 13 *', 'end of range (13) above maximum (12): 13'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['*/2/3 * * * *', 'too many slashes: */2/3'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ['@every x', 'failed to parse duration @every x: time: invalid duration "x"'],
    ['TZ=Mars/Base 0 * * * *', 'provided bad location Mars/Base: unknown time zone Mars/Base'],
  ];
  for (const [spec, msg] of cases)
    test(JSON.stringify(spec), () => {
      assert.throws(() => parseStandard(spec), (e: unknown) => e instanceof CronParseError && e.message === msg);
    });
});

describe('time zones as time.LoadLocation sees them', () => {
  test('known and unknown zones', () => {
    assert.equal(loadLocationError('America/New_York'), undefined);
    assert.equal(loadLocationError('UTC'), undefined);
    assert.equal(loadLocationError('Etc/GMT+5'), undefined);
    assert.equal(loadLocationError('Mars/Base'), 'unknown time zone Mars/Base');
    assert.equal(loadLocationError('america/new_york'), 'unknown time zone america/new_york');
  });
});

describe('nextActivation', () => {
  const next = (spec: string, after: string, tz?: string): string | undefined => nextActivation(parseStandard(spec), new Date(after), tz)?.toISOString();
  const cases: [string, string, string | undefined, string | undefined][] = [
    ['*/5 * * * *', '2024-01-01T00:03:10Z', undefined, '2024-01-01T00:05:00.000Z'],
    ['*/5 * * * *', '2024-01-01T00:05:00Z', undefined, '2024-01-01T00:10:00.000Z'],
    ['0 0 1 * *', '2024-01-15T12:00:00Z', undefined, '2024-02-01T00:00:00.000Z'],
    ['30 9 * * mon', '2024-01-01T10:00:00Z', undefined, '2024-01-08T09:30:00.000Z'],
    ['0 0 29 2 *', '2024-03-01T00:00:00Z', undefined, '2028-02-29T00:00:00.000Z'],
    ['0 0 30 2 *', '2024-01-01T00:00:00Z', undefined, undefined],
    ['0 9 * * *', '2024-06-01T00:00:00Z', 'America/New_York', '2024-06-01T13:00:00.000Z'],
    ['0 9 * * *', '2024-01-10T00:00:00Z', 'Europe/Berlin', '2024-01-10T08:00:00.000Z'],
    ['@every 90s', '2024-01-01T00:00:00Z', undefined, '2024-01-01T00:01:30.000Z'],
    // day-of-month OR day-of-week when neither is "*"
    ['0 0 13 * fri', '2024-09-01T00:00:00Z', undefined, '2024-09-06T00:00:00.000Z'],
  ];
  for (const [spec, after, tz, want] of cases)
    test(`${spec} after ${after}${tz ? ` in ${tz}` : ''}`, () => {
      assert.equal(next(spec, after, tz), want);
    });
});
