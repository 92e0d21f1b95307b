import { nanosString, StreamClock } from '../../libs/loki-logger/src/stream-clock.js';

describe('StreamClock (unit)', () => {
  it('gives strictly increasing timestamps within a millisecond, and follows the wall clock', () => {
    const clock = new StreamClock();
    expect(clock.next(1000)).toEqual([1000, 0]);
    expect(clock.next(1000)).toEqual([1000, 1]);
    expect(clock.next(1000)).toEqual([1000, 2]);
    expect(clock.next(1001)).toEqual([1001, 0]);
  });

  it('never goes back when the wall clock does', () => {
    const clock = new StreamClock();
    clock.next(5000);
    expect(clock.next(4000)).toEqual([5000, 1]);
  });

  it('carries into the next millisecond after a million entries in one', () => {
    const clock = new StreamClock();
    let last: [number, number] = clock.next(7);
    for (let i = 0; i < 1_000_000; i++) last = clock.next(7);
    expect(last).toEqual([8, 0]);
  });

  it('formats decimal nanoseconds for the JSON push API', () => {
    expect(nanosString(1700000000123, 0)).toBe('1700000000123000000');
    expect(nanosString(1700000000123, 42)).toBe('1700000000123000042');
    expect(nanosString(1700000000123, 999_999)).toBe('1700000000123999999');
  });
});
