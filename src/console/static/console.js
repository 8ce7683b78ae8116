// The console's progressive enhancement: every page works without it. Each part looks for its own markers.
import { refresh } from './refresh.js';
import { liveLog } from './live-log.js';
import { selectAll } from './select.js';

refresh(document);
liveLog(document);
selectAll(document);
