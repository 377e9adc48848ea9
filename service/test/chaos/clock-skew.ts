/**
 * Preloaded into a replica (`node --require dist/service/test/chaos/clock-skew.js`; cluster workers inherit the
 * flag) to skew its wall clock the way a host with a wrong clock would: Date.now() returns the real time
 * plus the offset in milliseconds read from the file named by CHAOS_CLOCK_SKEW_FILE, re-read every 100 ms.
 * The service derives its lease epochs from Date.now() (application/price-refresher.ts), so this offsets
 * that replica's epochs; monotonic timers (performance.now, setTimeout) are untouched, as on a real host.
 * Without the variable it does nothing.
 */
import { readFileSync } from 'node:fs';

const file = process.env.CHAOS_CLOCK_SKEW_FILE;
if (file !== undefined && file !== '') {
  const realNow = Date.now.bind(Date);
  let offsetMs = 0;
  const read = () => {
    try {
      const value = Number(readFileSync(file, 'utf8').trim());
      offsetMs = Number.isFinite(value) ? value : 0;
    } catch {
      offsetMs = 0;
    }
  };
  read();
  setInterval(read, 100).unref();
  Date.now = () => realNow() + offsetMs;
}
