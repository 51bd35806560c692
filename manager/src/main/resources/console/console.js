// Tether web console: one static page calling the JSON API described in notes/console-api.md.
// The CSP forbids inline script and style, so all behaviour lives here and the DOM is built with
// createElement + textContent: the browser escapes every value the server sends.
'use strict';

(() => {
  const POLL_MS = 2000;
  const ROUTES = ['tokens', 'delegates', 'install', 'audit'];
  const TYPE_LABELS = {
    kubernetes: 'Kubernetes', helm: 'Helm', docker: 'Docker', ecs: 'Amazon ECS', shell: 'Shell script',
    systemd: 'systemd',
  };

  const state = {
    session: null,          // {admin: {name, role}, csrf}
    accounts: [],
    accountId: '',
    tokens: [],             // tokens of accountId, as last listed
    defaults: null,         // /api/install/defaults
    auditActors: new Set(),
    pollTimer: 0,
    pollGeneration: 0,      // bumps when polling stops, so a late answer is dropped
    delegateRows: new Map(), // delegate id -> {tr, signature}
  };

  // The value shown in the one-time dialog. Held only while the dialog is open.
  let dialogSecret = null;   // {accountId, tokenName, value}
  // The value handed from the dialog to the install page. Memory only: never a URL, never storage.
  let installSecret = null;  // {accountId, tokenName, value}

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'text') node.textContent = value;
        else if (key === 'className') node.className = value;
        else if (key === 'testid') node.setAttribute('data-testid', value);
        else if (key === 'on') for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function option(value, label, selected) {
    const o = el('option', { value }, label);
    if (selected) o.selected = true;
    return o;
  }

  /** A local, readable time (date, then clock) with the RFC 3339 value in the title. */
  function timeEl(rfc3339, emptyText = '—', seconds = false) {
    if (!rfc3339) return el('span', { className: 'muted' }, emptyText);
    const date = new Date(rfc3339);
    if (Number.isNaN(date.getTime())) return el('span', null, rfc3339);
    const t = el('time', null,
      el('span', { className: 'date' }, dateFormat.format(date)), ' ',
      el('span', { className: 'clock' }, (seconds ? clockFormatSeconds : clockFormat).format(date)));
    t.setAttribute('datetime', rfc3339);
    t.setAttribute('title', rfc3339);
    return t;
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const clockFormatSeconds = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  function badge(text, kind) {
    return el('span', { className: `badge badge-${kind}` }, text);
  }

  // ---------------------------------------------------------------- messages

  function showError(message) {
    $('error-text').textContent = message;
    $('error-banner').hidden = false;
  }

  function clearError() {
    $('error-text').textContent = '';
    $('error-banner').hidden = true;
  }

  /** A success message; parts may be strings or nodes (the revoke count is a node with a test id). */
  function showNotice(...parts) {
    const text = $('notice-text');
    text.replaceChildren(...parts);
    $('notice').hidden = false;
  }

  function clearNotice() {
    $('notice-text').replaceChildren();
    $('notice').hidden = true;
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /**
   * Calls the API. A 401 anywhere ends the session in the page and shows the sign-in form; any other
   * failure is thrown as an ApiError carrying the server's `error` sentence.
   */
  async function api(method, path, body, options = {}) {
    const headers = { Accept: options.accept || 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrf;
    if (options.background) headers['X-Tether-Background'] = '1';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(0, 'The manager did not answer: check that it is running and reachable, then try again.');
    }
    if (response.status === 401) {
      if (options.allow401) return response;
      const message = await errorMessage(response);
      signedOut(message);
      throw new ApiError(401, message);
    }
    if (!response.ok) {
      throw new ApiError(response.status, await errorMessage(response));
    }
    if (options.raw) return response;
    return response.json();
  }

  async function errorMessage(response) {
    try {
      const data = await response.json();
      if (data && typeof data.error === 'string' && data.error) return data.error;
    } catch (e) {
      // Not JSON: fall through to a message naming the status.
    }
    return `The manager answered ${response.status} ${response.statusText || ''}`.trim() + '.';
  }

  /** Runs a user action: clears the old messages, shows a failure in the banner. */
  async function act(fn) {
    clearError();
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiError) {
        if (e.status !== 401) showError(e.message);
      } else {
        showError(`Unexpected error in the page: ${e && e.message ? e.message : e}`);
        console.error(e);
      }
      return undefined;
    }
  }

  /** Disables a button while an action runs, so a double click does not send it twice. */
  async function busy(button, fn) {
    if (button) button.disabled = true;
    try {
      return await fn();
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---------------------------------------------------------------- roles

  // Elements marked data-write are taken out of the document for a viewer (not just hidden), and put
  // back for an operator or owner. Each is remembered with a comment that keeps its place.
  const writeElements = [];

  function collectWriteElements() {
    for (const node of document.querySelectorAll('[data-write]')) {
      const marker = document.createComment('write');
      node.replaceWith(marker);
      writeElements.push({ node, marker });
    }
  }

  function canWrite() {
    return !!state.session && state.session.admin.role !== 'viewer';
  }

  function applyRole() {
    const write = canWrite();
    for (const item of writeElements) {
      if (write && !item.node.isConnected) item.marker.replaceWith(item.node);
      if (!write && item.node.isConnected) item.node.replaceWith(item.marker);
    }
  }

  // ---------------------------------------------------------------- session

  async function boot() {
    wireStaticHandlers();
    collectWriteElements();
    if (location.hash.startsWith('#login=')) {
      await loginWithCode();
      return;
    }
    try {
      const response = await api('GET', '/api/session', undefined, { allow401: true, raw: true });
      if (response.status === 401) {
        showSignIn();
        return;
      }
      signedIn(await response.json());
    } catch (e) {
      showSignIn();
      showError(e.message);
    }
  }

  /** Signs in with the one-time code of a `#login=CODE` link (opened on load or into an open page). */
  async function loginWithCode() {
    const code = decodeURIComponent(location.hash.slice('#login='.length));
    // Drop the one-time code from the address bar and history before anything else.
    history.replaceState(null, '', `${location.pathname}${location.search}#/tokens`);
    // A link never replaces an open session: someone else's link would otherwise sign this browser in
    // as them without a word, and what is done next would be audited under their name.
    let current = state.session;
    if (!current) {
      const response = await api('GET', '/api/session', undefined, { allow401: true, raw: true });
      if (response.status === 200) current = await response.json();
    }
    if (current) {
      if (!state.session) signedIn(current);
      else route();
      showError(`You are signed in as ${current.admin.name}: the sign-in link was not used. Sign out first to use a`
        + ' sign-in link.');
      return;
    }
    await act(async () => {
      const response = await api('POST', '/api/login', { code }, { allow401: true, raw: true });
      const session = await readLogin(response);
      if (session) signedIn(session);
    });
    if (!state.session) showSignIn();
  }

  async function readLogin(response) {
    if (response.status === 401) {
      showError(await errorMessage(response));
      return null;
    }
    return response.json();
  }

  function signedIn(session) {
    state.session = session;
    $('signed-in-as').textContent = `${session.admin.name} (${session.admin.role})`;
    $('main-nav').hidden = false;
    $('user-area').hidden = false;
    $('view-signin').hidden = true;
    applyRole();
    route();
  }

  /** Back to the sign-in form: forgets the session, every held value, and stops polling. */
  function signedOut(message) {
    stopPolling();
    state.session = null;
    state.accounts = [];
    state.tokens = [];
    state.accountId = '';
    state.auditActors.clear();
    forgetDialogSecret();
    forgetInstallSecret();
    for (const id of ['token-dialog', 'revoke-dialog', 'delete-dialog']) {
      if ($(id).open) $(id).close();
    }
    for (const id of ['token-rows', 'delegate-rows', 'audit-rows']) $(id).replaceChildren();
    state.delegateRows.clear();
    clearNotice();
    applyRole();
    showSignIn();
    if (message) showError(message);
  }

  function showSignIn() {
    $('main-nav').hidden = true;
    $('user-area').hidden = true;
    $('signed-in-as').textContent = '';
    for (const r of ROUTES) $(`view-${r}`).hidden = true;
    $('view-signin').hidden = false;
    document.title = 'Sign in · Tether console';
    $('signin-credential').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('signin-credential');
    const credential = input.value.trim();
    if (!credential) return;
    await act(() => busy($('signin-button'), async () => {
      const response = await api('POST', '/api/login', { credential }, { allow401: true, raw: true });
      const session = await readLogin(response);
      if (!session) return;
      input.value = '';
      if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/tokens');
      signedIn(session);
    }));
  }

  async function signOut() {
    await act(async () => {
      await api('POST', '/api/logout', {});
      signedOut();
    });
  }

  // ---------------------------------------------------------------- routing

  function currentRoute() {
    const name = location.hash.replace(/^#\/?/, '');
    return ROUTES.includes(name) ? name : 'tokens';
  }

  function route() {
    if (location.hash.startsWith('#login=')) {
      loginWithCode();
      return;
    }
    if (!state.session) {
      showSignIn();
      return;
    }
    const name = currentRoute();
    stopPolling();
    clearError();
    clearNotice();
    for (const r of ROUTES) $(`view-${r}`).hidden = r !== name;
    for (const link of document.querySelectorAll('#main-nav a')) {
      if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const titles = { tokens: 'Delegate Tokens', delegates: 'Delegates', install: 'Install a delegate', audit: 'Audit' };
    document.title = `${titles[name]} · Tether console`;
    const show = { tokens: showTokens, delegates: showDelegates, install: showInstall, audit: showAudit }[name];
    act(show);
  }

  // ---------------------------------------------------------------- accounts

  async function loadAccounts() {
    const data = await api('GET', '/api/accounts');
    state.accounts = data.accounts || [];
    if (!state.accounts.some((a) => a.id === state.accountId)) {
      state.accountId = state.accounts.length ? state.accounts[0].id : '';
    }
    for (const id of ['account-select', 'delegates-account', 'install-account']) fillAccountSelect($(id));
    fillAuditAccounts();
  }

  function fillAccountSelect(select) {
    select.replaceChildren(...state.accounts.map((a) => option(a.id, a.name, a.id === state.accountId)));
    select.disabled = state.accounts.length === 0;
  }

  function fillAuditAccounts() {
    const select = $('audit-account');
    const keep = select.value;
    select.replaceChildren(option('', 'All accounts'),
      ...state.accounts.map((a) => option(a.id, a.name, a.id === keep)));
  }

  function accountName(id) {
    const account = state.accounts.find((a) => a.id === id);
    return account ? account.name : id;
  }

  function chooseAccount(id) {
    if (id === state.accountId) return;
    state.accountId = id;
    if (installSecret && installSecret.accountId !== id) forgetInstallSecret();
    clearNotice();
    route();
  }

  async function createAccount(event) {
    event.preventDefault();
    const input = $('new-account-name');
    const name = input.value.trim();
    if (!name) return;
    await act(() => busy(event.submitter, async () => {
      const data = await api('POST', '/api/accounts', { name });
      input.value = '';
      state.accountId = data.account.id;
      await loadAccounts();
      await loadTokens();
      openTokenDialog(`Account ${data.account.name} created`,
        `Its default token is ${data.token.name}. Delegates of this account can connect with this value:`,
        { accountId: data.account.id, tokenName: data.token.name, value: data.value });
    }));
  }

  // ---------------------------------------------------------------- tokens page

  async function showTokens() {
    await loadAccounts();
    $('no-accounts').hidden = state.accounts.length > 0;
    const generate = $('generate-card');
    if (generate) generate.hidden = state.accounts.length === 0;
    await loadTokens();
  }

  async function loadTokens() {
    const body = $('token-rows');
    if (!state.accountId) {
      state.tokens = [];
      body.replaceChildren();
      $('tokens-empty').hidden = true;
      return;
    }
    const data = await api('GET', `/api/tokens?account=${encodeURIComponent(state.accountId)}`);
    state.tokens = data.tokens || [];
    body.replaceChildren(...state.tokens.map(tokenRow));
    $('tokens-empty').hidden = state.tokens.length > 0;
  }

  function statusKind(status) {
    return { ACTIVE: 'ok', REVOKED: 'danger', EXPIRED: 'warn' }[status] || 'neutral';
  }

  function tokenRow(token) {
    const created = el('td', null, timeEl(token.createdAt));
    if (token.createdBy) created.append(el('span', { className: 'by' }, `by ${token.createdBy}`));
    const status = el('td', { testid: `token-status-${token.name}` }, badge(token.status, statusKind(token.status)));
    if (token.status === 'REVOKED' && token.revokedAt) {
      status.setAttribute('title', `Revoked ${token.revokedAt}${token.revokedBy ? ` by ${token.revokedBy}` : ''}`);
    }
    const row = el('tr', { testid: `token-row-${token.name}` },
      el('td', { className: 'strong' }, token.name),
      status,
      el('td', null, el('code', null, token.id)),
      el('td', { className: 'desc' }, token.description || ''),
      created,
      el('td', null, timeEl(token.lastUsedAt, 'never')),
      el('td', null, timeEl(token.expiresAt, 'never')),
      el('td', { className: 'num' }, String(token.connected ?? 0)));
    if (canWrite()) {
      const actions = el('td', { className: 'actions' });
      if (token.status === 'ACTIVE') {
        actions.append(el('button', {
          type: 'button', className: 'btn btn-small btn-danger-outline', testid: `revoke-${token.name}`,
          'aria-label': `Revoke token ${token.name}`, on: { click: () => openRevokeDialog(token) },
        }, 'Revoke'));
      } else {
        actions.append(el('button', {
          type: 'button', className: 'btn btn-small', testid: `delete-${token.name}`,
          'aria-label': `Delete token ${token.name}`, on: { click: () => openDeleteDialog(token) },
        }, 'Delete'));
      }
      row.append(actions);
    }
    return row;
  }

  async function generateToken(event) {
    event.preventDefault();
    const name = $('token-name').value.trim();
    if (!name || !state.accountId) return;
    const body = { account: state.accountId, name };
    const description = $('token-description').value.trim();
    if (description) body.description = description;
    const days = $('token-expiry').value;
    if (days) body.expiresInDays = Number(days);
    await act(() => busy(event.submitter, async () => {
      clearNotice();
      const data = await api('POST', '/api/tokens', body);
      $('generate-form').reset();
      await loadTokens();
      openTokenDialog(`Token ${data.token.name} created`, `Account ${accountName(data.token.accountId)}, public id ${data.token.id}.`,
        { accountId: data.token.accountId, tokenName: data.token.name, value: data.value });
    }));
  }

  // ---------------------------------------------------------------- the one-time value dialog

  function openTokenDialog(title, subject, secret) {
    dialogSecret = secret;
    $('token-dialog-title').textContent = title;
    $('token-dialog-subject').textContent = subject;
    $('token-value').textContent = secret.value;
    $('copy-status').textContent = '';
    $('token-dialog').showModal();
  }

  function forgetDialogSecret() {
    dialogSecret = null;
    $('token-value').textContent = '';
    $('copy-status').textContent = '';
  }

  async function copyToken() {
    if (!dialogSecret) return;
    const status = $('copy-status');
    try {
      await navigator.clipboard.writeText(dialogSecret.value);
      status.className = 'copied';
      status.textContent = 'Copied';
    } catch (e) {
      // The clipboard needs a secure context and permission; the value stays visible to copy by hand.
      status.className = 'copy-failed';
      status.textContent = 'Could not copy: select the value and copy it by hand';
    }
  }

  function installFromDialog() {
    if (!dialogSecret) return;
    installSecret = { ...dialogSecret };
    $('token-dialog').close();
    location.hash = '#/install';
  }

  // ---------------------------------------------------------------- revoke and delete

  let revokeTarget = null;

  async function openRevokeDialog(token) {
    revokeTarget = token;
    clearError();
    clearNotice();
    $('revoke-dialog-title').textContent = `Revoke token ${token.name}`;
    $('revoke-dialog-intro').textContent =
      `Delegates connected with ${token.name} are cut at once and cannot connect with it again.`;
    $('revoke-loading').hidden = false;
    $('revoke-affected').replaceChildren();
    $('revoke-affected').hidden = true;
    $('revoke-none').hidden = true;
    $('revoke-error').hidden = true;
    $('confirm-revoke').disabled = true;
    $('revoke-dialog').showModal();
    try {
      const data = await api('POST', '/api/tokens/revoke',
        { account: token.accountId || state.accountId, name: token.name, dryRun: true });
      if (revokeTarget !== token) return;
      const affected = data.affectedDelegates || [];
      $('revoke-affected').replaceChildren(...affected.map((d) => el('li', null,
        el('span', { className: 'strong' }, d.name),
        el('span', { className: 'muted' }, ` on ${d.hostname || 'unknown host'}${d.replica ? `, replica ${d.replica}` : ''}`))));
      $('revoke-affected').hidden = affected.length === 0;
      $('revoke-none').hidden = affected.length > 0;
      $('confirm-revoke').disabled = false;
    } catch (e) {
      if (e.status === 401) return;
      $('revoke-error').textContent = e.message;
      $('revoke-error').hidden = false;
    } finally {
      $('revoke-loading').hidden = true;
    }
  }

  async function confirmRevoke() {
    const token = revokeTarget;
    if (!token) return;
    const button = $('confirm-revoke');
    button.disabled = true;
    try {
      const data = await api('POST', '/api/tokens/revoke',
        { account: token.accountId || state.accountId, name: token.name, dryRun: false });
      $('revoke-dialog').close();
      const closed = data.streamsClosed ?? 0;
      showNotice(`Revoked ${token.name}: `, el('span', { testid: 'revoked-count' }, String(closed)),
        closed === 1 ? ' stream closed' : ' streams closed');
      await act(loadTokens);
    } catch (e) {
      if (e.status === 401) return;
      $('revoke-error').textContent = e.message;
      $('revoke-error').hidden = false;
      button.disabled = false;
    }
  }

  let deleteAction = null;

  function openDeleteDialog(token) {
    clearError();
    $('delete-dialog-title').textContent = `Delete token ${token.name}`;
    $('delete-dialog-text').textContent =
      `${token.name} is ${token.status.toLowerCase()}. Deleting it removes it from this list; the audit trail keeps its history.`;
    deleteAction = async () => {
      await api('POST', '/api/tokens/delete', { account: token.accountId || state.accountId, name: token.name });
      showNotice(`Deleted token ${token.name}.`);
      await loadTokens();
    };
    $('delete-dialog').showModal();
  }

  async function confirmDelete() {
    const run = deleteAction;
    deleteAction = null;
    $('delete-dialog').close();
    if (run) await act(run);
  }

  // ---------------------------------------------------------------- delegates page

  async function showDelegates() {
    await loadAccounts();
    await loadTokenFilter();
    state.delegateRows.clear();
    $('delegate-rows').replaceChildren();
    startPolling();
  }

  async function loadTokenFilter() {
    const select = $('delegate-token-filter');
    const keep = select.value;
    let names = [];
    if (state.accountId) {
      const data = await api('GET', `/api/tokens?account=${encodeURIComponent(state.accountId)}`);
      state.tokens = data.tokens || [];
      names = state.tokens.map((t) => t.name);
    }
    select.replaceChildren(option('', 'All tokens'),
      ...names.map((n) => option(n, `${n}${tokenSuffix(n)}`, n === keep)));
  }

  function tokenSuffix(name) {
    const token = state.tokens.find((t) => t.name === name);
    return token && token.status !== 'ACTIVE' ? ` (${token.status.toLowerCase()})` : '';
  }

  function startPolling() {
    stopPolling();
    const generation = state.pollGeneration;
    const tick = async () => {
      try {
        await loadDelegates(true, generation);
      } catch (e) {
        if (e.status === 401 || generation !== state.pollGeneration) return;
        showError(e.message);
      }
      if (generation === state.pollGeneration) state.pollTimer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  function stopPolling() {
    state.pollGeneration += 1;
    clearTimeout(state.pollTimer);
    state.pollTimer = 0;
  }

  async function loadDelegates(background, generation) {
    if (!state.accountId) {
      renderDelegates([]);
      return;
    }
    const params = new URLSearchParams({ account: state.accountId, state: $('delegate-state-filter').value });
    const token = $('delegate-token-filter').value;
    if (token) params.set('token', token);
    const data = await api('GET', `/api/delegates?${params}`, undefined, { background });
    if (generation !== undefined && generation !== state.pollGeneration) return;
    renderDelegates(data.delegates || []);
    $('delegates-updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  }

  /** Updates the table in place: rows that did not change keep their nodes (and focus). */
  function renderDelegates(delegates) {
    const body = $('delegate-rows');
    const write = canWrite();
    const seen = new Set();
    const wanted = [];
    for (const d of delegates) {
      const signature = JSON.stringify([d, write]);
      let entry = state.delegateRows.get(d.id);
      if (!entry || entry.signature !== signature) {
        const tr = delegateRow(d, write);
        if (entry) entry.tr.replaceWith(tr);
        entry = { tr, signature };
        state.delegateRows.set(d.id, entry);
      }
      seen.add(d.id);
      wanted.push(entry.tr);
    }
    for (const [id, entry] of state.delegateRows) {
      if (!seen.has(id)) {
        entry.tr.remove();
        state.delegateRows.delete(id);
      }
    }
    const current = Array.from(body.children);
    if (current.length !== wanted.length || current.some((tr, i) => tr !== wanted[i])) {
      body.replaceChildren(...wanted);
    }
    $('delegates-empty').hidden = delegates.length > 0;
    const connected = delegates.filter((d) => d.connected).length;
    $('delegates-count').textContent = `${delegates.length} shown, ${connected} connected`;
  }

  function delegateRow(d, write) {
    const tags = el('td', { className: 'tags' }, ...(d.tags || []).map((t) => el('span', { className: 'tag' }, t)));
    const stateText = d.connected ? 'connected' : 'disconnected';
    const stateCell = el('td', { testid: `delegate-status-${d.name}` }, badge(stateText, d.connected ? 'ok' : 'neutral'));
    if (!d.connected && d.disconnectedAt) {
      stateCell.setAttribute('title',
        `Disconnected ${d.disconnectedAt}${d.disconnectReason ? `: ${d.disconnectReason}` : ''}`);
    } else if (d.connected && d.connectedSince) {
      stateCell.setAttribute('title', `Connected since ${d.connectedSince}`);
    }
    const tokenCell = el('td', null, d.tokenName || '');
    const token = state.tokens.find((t) => t.name === d.tokenName);
    if (token && token.status !== 'ACTIVE') tokenCell.append(' ', badge(token.status, statusKind(token.status)));
    const row = el('tr', { testid: `delegate-row-${d.name}` },
      el('td', { className: 'strong' }, d.name),
      stateCell,
      el('td', null, d.hostname || ''),
      el('td', null, d.type || ''),
      tags,
      tokenCell,
      el('td', null, timeEl(d.lastHeartbeatAt, '—', true)),
      el('td', null, d.replica || ''));
    if (write) {
      const actions = el('td', { className: 'actions' });
      if (!d.connected) {
        actions.append(el('button', {
          type: 'button', className: 'btn btn-small', testid: `delete-delegate-${d.name}`,
          'aria-label': `Delete delegate ${d.name}`, on: { click: (e) => deleteDelegate(d, e.currentTarget) },
        }, 'Delete'));
      }
      row.append(actions);
    }
    return row;
  }

  async function deleteDelegate(d, button) {
    await act(() => busy(button, async () => {
      await api('POST', '/api/delegates/delete', { id: d.id });
      showNotice(`Deleted delegate ${d.name}.`);
      await loadDelegates(false);
    }));
  }

  function delegateFilterChanged() {
    clearNotice();
    act(async () => {
      const generation = state.pollGeneration;
      await loadDelegates(false, generation);
    });
  }

  // ---------------------------------------------------------------- install page

  async function showInstall() {
    await loadAccounts();
    if (!state.defaults) state.defaults = await api('GET', '/api/install/defaults');
    const d = state.defaults;
    const typeSelect = $('install-type');
    if (typeSelect.options.length === 0) {
      typeSelect.replaceChildren(...(d.types || []).map((t) => option(t, TYPE_LABELS[t] || t)));
      typeSelect.value = (d.types || []).includes('kubernetes') ? 'kubernetes' : (d.types || [])[0] || '';
      $('install-manager-url').value = d.managerUrl || '';
      $('install-namespace').value = d.namespace || '';
      $('install-image').value = d.image || '';
    }
    updateEcsFields();
    await loadInstallTokens();
    showInstallSecret();
  }

  async function loadInstallTokens() {
    const select = $('install-token');
    let active = [];
    if (state.accountId) {
      const data = await api('GET', `/api/tokens?account=${encodeURIComponent(state.accountId)}`);
      state.tokens = data.tokens || [];
      active = state.tokens.filter((t) => t.status === 'ACTIVE');
    }
    const keep = installSecret ? installSecret.tokenName : select.value;
    select.replaceChildren(...active.map((t) => option(t.name, t.name, t.name === keep)));
    select.disabled = active.length === 0;
    if (active.length === 0) select.append(option('', 'No active token in this account'));
  }

  function showInstallSecret() {
    const held = !!installSecret && installSecret.accountId === state.accountId;
    $('install-held').hidden = !held;
    $('install-value-field').hidden = held;
    if (held) {
      $('install-held-text').textContent =
        `The value of token ${installSecret.tokenName} from the dialog is held in this page's memory only.`;
      $('install-token').value = installSecret.tokenName;
    }
  }

  function forgetInstallSecret() {
    installSecret = null;
    if ($('install-held')) {
      $('install-held').hidden = true;
      $('install-value-field').hidden = false;
    }
  }

  function updateEcsFields() {
    const ecs = $('install-type').value === 'ecs';
    $('install-ecs').hidden = !ecs;
    $('install-ecs-secret').required = ecs;
    $('install-ecs-role').required = ecs;
  }

  async function download(event) {
    event.preventDefault();
    const tokenName = $('install-token').value;
    const held = installSecret && installSecret.accountId === state.accountId && installSecret.tokenName === tokenName;
    const value = held ? installSecret.value : $('install-value').value.trim();
    if (!tokenName) {
      showError('Choose an active token of this account (generate one on the Delegate Tokens page).');
      return;
    }
    if (!value) {
      showError(`Paste the value of token ${tokenName}: the server checks it against that token.`);
      $('install-value').focus();
      return;
    }
    const type = $('install-type').value;
    const body = {
      account: state.accountId,
      tokenName,
      value,
      type,
      delegateName: $('install-name').value.trim(),
      managerUrl: $('install-manager-url').value.trim(),
      rotation: $('install-rotation').checked,
    };
    const namespace = $('install-namespace').value.trim();
    if (namespace) body.namespace = namespace;
    const image = $('install-image').value.trim();
    if (image) body.image = image;
    if (type === 'ecs') {
      const secretArn = $('install-ecs-secret').value.trim();
      const roleArn = $('install-ecs-role').value.trim();
      if (secretArn) body.ecsSecretArn = secretArn;
      if (roleArn) body.ecsExecutionRoleArn = roleArn;
    }
    await act(() => busy(event.submitter, async () => {
      clearNotice();
      const response = await api('POST', '/api/install', body, { raw: true, accept: 'application/zip' });
      const blob = await response.blob();
      const filename = attachmentName(response.headers.get('Content-Disposition'))
        || `tether-delegate-${body.delegateName}-${type}.zip`;
      const url = URL.createObjectURL(blob);
      const link = el('a', { href: url, download: filename, className: 'visually-hidden' });
      document.body.append(link);
      link.click();
      link.remove();
      // Revoke once the browser has taken the download over.
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      $('install-value').value = '';
      showNotice(`Downloaded ${filename}. Unpack it on the delegate's host and follow its README.`);
    }));
  }

  function attachmentName(header) {
    if (!header) return null;
    const match = /filename="?([^";]+)"?/i.exec(header);
    return match ? match[1].replace(/[\\/]/g, '_') : null;
  }

  // ---------------------------------------------------------------- audit page

  async function showAudit() {
    await loadAccounts();
    await loadAudit();
  }

  async function loadAudit() {
    const params = new URLSearchParams({ limit: '200' });
    const account = $('audit-account').value;
    const admin = $('audit-admin').value;
    if (account) params.set('account', account);
    if (admin) params.set('admin', admin);
    const data = await api('GET', `/api/audit?${params}`);
    const events = data.events || [];
    for (const e of events) if (e.actor) state.auditActors.add(e.actor);
    fillAuditAdmins();
    $('audit-rows').replaceChildren(...events.map(auditRow));
    $('audit-empty').hidden = events.length > 0;
    $('audit-count').textContent = events.length === 200 ? 'the newest 200 events' : `${events.length} events`;
  }

  function fillAuditAdmins() {
    const select = $('audit-admin');
    const keep = select.value;
    const names = Array.from(state.auditActors).sort();
    select.replaceChildren(option('', 'All admins'), ...names.map((n) => option(n, n, n === keep)));
  }

  function auditRow(e) {
    return el('tr', { testid: 'audit-row' },
      el('td', { className: 'nowrap' }, timeEl(e.at, '—', true)),
      el('td', { className: 'strong' }, e.actor || ''),
      el('td', null, el('code', null, e.action || '')),
      el('td', null, e.accountId ? accountName(e.accountId) : ''),
      el('td', null, e.tokenId ? el('code', null, e.tokenId) : ''),
      el('td', { className: 'desc' }, e.detail || ''),
      el('td', { className: 'muted' }, e.remoteAddress || ''));
  }

  // ---------------------------------------------------------------- wiring

  function wireStaticHandlers() {
    window.addEventListener('hashchange', route);
    $('signin-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('error-dismiss').addEventListener('click', clearError);
    $('notice-dismiss').addEventListener('click', clearNotice);

    for (const id of ['account-select', 'delegates-account', 'install-account']) {
      $(id).addEventListener('change', (e) => chooseAccount(e.target.value));
    }
    $('account-form').addEventListener('submit', createAccount);
    $('generate-form').addEventListener('submit', generateToken);
    $('tokens-refresh').addEventListener('click', () => act(loadTokens));

    $('token-dialog').addEventListener('close', forgetDialogSecret);
    $('copy-token').addEventListener('click', copyToken);
    $('close-token-dialog').addEventListener('click', () => $('token-dialog').close());
    $('install-from-dialog').addEventListener('click', installFromDialog);

    $('revoke-dialog').addEventListener('close', () => { revokeTarget = null; });
    $('cancel-revoke').addEventListener('click', () => $('revoke-dialog').close());
    $('confirm-revoke').addEventListener('click', confirmRevoke);
    $('delete-dialog').addEventListener('close', () => { deleteAction = null; });
    $('cancel-delete').addEventListener('click', () => $('delete-dialog').close());
    $('confirm-delete').addEventListener('click', confirmDelete);

    $('delegate-state-filter').addEventListener('change', delegateFilterChanged);
    $('delegate-token-filter').addEventListener('change', delegateFilterChanged);

    $('install-type').addEventListener('change', updateEcsFields);
    $('install-forget').addEventListener('click', () => {
      forgetInstallSecret();
      $('install-value').focus();
    });
    $('install-form').addEventListener('submit', download);

    $('audit-account').addEventListener('change', () => act(loadAudit));
    $('audit-admin').addEventListener('change', () => act(loadAudit));
    $('audit-refresh').addEventListener('click', () => act(loadAudit));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
