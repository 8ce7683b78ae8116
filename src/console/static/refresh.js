// Overview: re-reads the page every few seconds and swaps in the fresh content of [data-refresh], no reload.
export function refresh(doc) {
  const box = doc.querySelector('[data-refresh]');
  if (!box) return;
  const every = Number(box.dataset.refresh) || 10000;
  setInterval(async () => {
    if (doc.hidden) return;
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const fresh = new DOMParser().parseFromString(await res.text(), 'text/html').querySelector('[data-refresh]');
      if (fresh) box.replaceChildren(...fresh.childNodes);
    } catch {
      // Offline for a moment: the next round tries again.
    }
  }, every);
}
