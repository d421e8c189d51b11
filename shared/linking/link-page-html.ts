/**
 * The link page's HTML: small, self-contained (no external asset, so the CSP can forbid them), and the
 * polling script that swaps in each QR as WhatsApp rotates it, then shows the outcome.
 */

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#111}
h1{font-size:1.3rem}img{width:18rem;height:18rem;image-rendering:pixelated;border:1px solid #ddd}
#code{font-size:2rem;letter-spacing:.2rem;font-family:monospace}.muted{color:#555}`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A page with one sentence: an expired, used or unknown link. */
export function messagePageHtml(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>WhatsApp link</title><style>${STYLE}</style></head>
<body><h1>WhatsApp link</h1><p id="message">${escapeHtml(message)}</p></body></html>`;
}

/** The live page; `viewKey` ties its polls to this one page load. */
export function linkPageHtml(viewKey: string, expiresAt: number): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>Link WhatsApp</title><style>${STYLE}</style></head>
<body><h1>Link a phone to WhatsApp</h1>
<p class="muted">On the phone: WhatsApp &gt; Settings &gt; Linked devices &gt; Link a device, then scan the code. It changes every 20 seconds or so; this page follows it.</p>
<p id="status">Waiting for WhatsApp…</p>
<img id="qr" alt="WhatsApp QR code" hidden>
<p id="code" hidden></p>
<p class="muted">This page works until ${escapeHtml(new Date(expiresAt).toISOString())}; do not share its address.</p>
<script>
(function () {
  var url = location.pathname + '?view=' + encodeURIComponent(${JSON.stringify(viewKey)});
  var status = document.getElementById('status'), qr = document.getElementById('qr'), code = document.getElementById('code');
  function done(text) { status.textContent = text; qr.hidden = true; code.hidden = true; }
  function poll() {
    fetch(url, { cache: 'no-store' }).then(function (response) { return response.json(); }).then(function (state) {
      if (state.status === 'waiting') {
        if (state.qr) { if (qr.getAttribute('src') !== state.qr) qr.setAttribute('src', state.qr); qr.hidden = false; status.textContent = 'Scan this QR code with WhatsApp.'; }
        if (state.pairing_code) { code.textContent = state.pairing_code; code.hidden = false; status.textContent = 'Type this code on the phone.'; }
        setTimeout(poll, 1500);
      } else if (state.status === 'linked') done('Linked as ' + (state.phone || 'your phone') + '.');
      else done(state.status === 'failed' ? 'Linking failed: ' + state.message : state.message);
    }, function () { status.textContent = 'Cannot reach n8n; retrying…'; setTimeout(poll, 3000); });
  }
  poll();
})();
</script></body></html>`;
}
