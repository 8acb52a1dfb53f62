// Local times: every <time datetime=… data-local> shows UTC as rendered by the server; this
// adds the reader's own time zone under it (in its [data-local-out] line, or a line of its
// own) and as its title. Runs at load and again whenever the page adds times (hydration,
// navigation, a table refetched), so it needs no call from the app.
(() => {
  if (window.gatehouseLocalTime) return;
  window.gatehouseLocalTime = true;

  const zone = (() => {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch {
      return '';
    }
  })();

  const localise = (el) => {
    const at = new Date(el.getAttribute('datetime'));
    if (Number.isNaN(at.getTime())) return;
    const text = zone ? `${at.toLocaleString()} (${zone})` : at.toLocaleString();
    if (el.title !== text) el.title = text;
    let out = el.querySelector('[data-local-out]');
    if (!out) {
      out = document.createElement('span');
      out.className = 'block text-xs text-slate-500';
      out.setAttribute('data-local-out', '');
      el.appendChild(out);
    }
    if (out.textContent !== text) out.textContent = text;
  };

  const scan = (root) => {
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    if (root.matches('time[data-local]')) localise(root);
    root.querySelectorAll('time[data-local]').forEach(localise);
  };

  const start = () => {
    scan(document.body);
    new MutationObserver((changes) => {
      for (const change of changes) {
        if (change.type === 'attributes') {
          if (change.target.matches?.('time[data-local]')) localise(change.target);
          continue;
        }
        change.addedNodes.forEach(scan);
        // A time whose text was replaced in place (its line may be gone with it).
        const owner = change.target.closest?.('time[data-local]');
        if (owner) localise(owner);
      }
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['datetime'] });
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
