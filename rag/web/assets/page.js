// Runs in the page once loaded. The document is Danish (screen readers, hyphenation); the
// date fields get a Danish placeholder; a chat message is read as its text, not as its HTML
// source (gradio puts the raw content in aria-label); and a new question is scrolled to
// the top of the chat, so its answer reads from the best quote down. A copy button (chat,
// timeline) puts the text of the hidden span after it on the clipboard; the share line's
// button, the full address of the link before it.
() => {
  document.documentElement.lang = 'da';
  const copy = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (err) {
      const area = document.createElement('textarea');
      area.value = text;
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand('copy');
      area.remove();
      return ok;
    }
  };
  document.addEventListener('click', async (e) => {
    const button = e.target.closest && e.target.closest('button.rag-copy');
    if (!button) return;
    e.preventDefault();
    const before = button.previousElementSibling, after = button.nextElementSibling;
    const text = button.classList.contains('rag-copy-link') ? before.href : after.textContent;
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = (await copy(text)) ? 'Kopieret ✓' : 'Kunne ikke kopiere';
    setTimeout(() => { button.textContent = label; }, 1500);
  });
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const y = getComputedStyle(p).overflowY;
      if ((y === 'auto' || y === 'scroll') && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  let questions = 0, pending = null;
  const tidy = () => {
    for (const el of document.querySelectorAll('#rag-date-from input, #rag-date-to input')) {
      if (el.placeholder !== 'ÅÅÅÅ-MM-DD') el.placeholder = 'ÅÅÅÅ-MM-DD';
    }
    for (const el of document.querySelectorAll('#rag-chat [data-testid="bot"][aria-label]')) {
      el.removeAttribute('aria-label');
    }
    for (const el of document.querySelectorAll('#rag-chat [data-testid="user"][aria-label]')) {
      const label = 'Dit spørgsmål: ' + el.innerText;
      if (el.getAttribute('aria-label') !== label) el.setAttribute('aria-label', label);
    }
    const rows = document.querySelectorAll('#rag-chat .user-row');
    if (rows.length > questions) pending = {row: rows[rows.length - 1], until: Date.now() + 3000};
    questions = rows.length;
    if (pending && (Date.now() > pending.until || !pending.row.isConnected)) pending = null;
    const box = pending && scroller(pending.row);
    if (box) {
      const delta = pending.row.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      const room = box.scrollHeight - box.clientHeight - box.scrollTop;
      box.scrollTop += delta;
      if (delta <= room) pending = null;  // at the top now; more content will not move it
    }
  };
  new MutationObserver(tidy).observe(document.body, {childList: true, subtree: true});
  tidy();
}
