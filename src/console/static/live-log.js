// Live log: server-sent events of new lines, newest on top; "Pause" keeps them aside until "Resume".
const MAX_ROWS = 1000;

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  return td;
}

function row(line) {
  const tr = document.createElement('tr');
  tr.className = `lv-${line.level} fresh`;
  const msg = cell(line.message);
  if (line.submissionId) {
    const a = document.createElement('a');
    a.href = `/console/submissions/${line.submissionId}`;
    a.textContent = ` ${line.submissionId.slice(0, 8)}…`;
    msg.append(a);
  }
  tr.append(cell(new Date(line.at).toLocaleTimeString()), cell(line.level), cell(line.tenant), cell(line.target), msg);
  return tr;
}

export function liveLog(doc) {
  const table = doc.getElementById('live-log');
  if (!table) return;
  const body = table.tBodies[0];
  const button = doc.getElementById('pause');
  let paused = false;
  const held = [];
  const show = (line) => {
    body.prepend(row(line));
    while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  };
  const source = new EventSource(table.dataset.stream, { withCredentials: true });
  source.addEventListener('line', (e) => {
    const line = JSON.parse(e.data);
    if (paused) held.push(line);
    else show(line);
  });
  button.hidden = false;
  button.addEventListener('click', () => {
    paused = !paused;
    button.setAttribute('aria-pressed', String(paused));
    button.textContent = paused ? button.dataset.resume : button.dataset.pause;
    if (!paused) for (const line of held.splice(0)) show(line);
  });
}
