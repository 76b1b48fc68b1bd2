// Sign-in: realm + user + password → POST /v1/session.
import { api, errorText, say, ApiError } from '../app.js';
import { h, field, errorBox, showError } from './ui.js';

export function render({ main, onSignedIn }) {
  let savedRealm = '';
  try { savedRealm = localStorage.getItem('lockbox.realm') || ''; } catch { /* ignore */ }
  const realm = h('input', { id: 'signin-realm', name: 'realm', autocomplete: 'organization', required: true, value: savedRealm, 'data-testid': 'signin-realm', spellcheck: 'false', autocapitalize: 'none' });
  const user = h('input', { id: 'signin-user', name: 'username', autocomplete: 'username', required: true, 'data-testid': 'signin-user', spellcheck: 'false', autocapitalize: 'none' });
  const password = h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'signin-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'signin-submit' }, 'Sign in');
  const err = errorBox('signin-error');

  const form = h('form', { class: 'card signin', 'data-testid': 'signin-form', novalidate: true },
    h('h1', { tabindex: '-1' }, 'Sign in to Lockbox'),
    h('p', { class: 'muted' }, 'Tenant people: your realm is your tenant id (e.g. contoso). Provider staff: provider.'),
    field('Realm', realm),
    field('User', user),
    field('Password', password),
    err,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, '');
    const body = { realm: realm.value.trim(), user: user.value.trim(), password: password.value };
    if (!body.realm || !body.user || !body.password) {
      showError(err, 'Enter your realm, user and password.');
      (!body.realm ? realm : !body.user ? user : password).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const sess = await api('POST', '/v1/session', body, { noSessionEnd: true });
      try { localStorage.setItem('lockbox.realm', body.realm); } catch { /* ignore */ }
      password.value = '';
      say(`Signed in as ${body.user}.`, 'success', true);
      await onSignedIn(sess);
    } catch (ex) {
      let text = errorText(ex);
      if (ex instanceof ApiError && ex.status === 401) text = `Wrong realm, user or password. (${ex.code})`;
      else if (ex instanceof ApiError && ex.status === 429) text = `Too many failed sign-ins; wait a few minutes and try again. (${ex.code})`;
      showError(err, text);
      say(text, 'error');
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  main.append(h('div', { class: 'signin-wrap' }, form));
  (savedRealm ? user : realm).focus();
}
