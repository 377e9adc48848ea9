// The npm `eventsource` client (ESM only, so it runs in its own node process rather than under Jest): one
// JSON line per event it dispatches, as an application using it would see them.
import { clearInterval, setInterval } from 'node:timers';
import { EventSource } from 'eventsource';

const source = new EventSource(process.argv[2]);
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
source.addEventListener('open', () => print({ type: 'open' }));
source.addEventListener('error', (event) =>
  print({ type: 'error', message: event.message, code: event.code, readyState: source.readyState }),
);
for (const type of ['price', 'status']) {
  source.addEventListener(type, (event) => print({ type, id: event.lastEventId, data: event.data }));
}
// eventsource unrefs its reconnect timer: with nothing else pending the process would exit instead of
// reconnecting. An application has its own work keeping it alive; this one has only this interval.
const alive = setInterval(() => undefined, 60_000);
process.on('SIGTERM', () => {
  clearInterval(alive);
  source.close();
  process.exit(0);
});
