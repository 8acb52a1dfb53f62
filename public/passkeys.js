// Passkeys in the browser (NFR-SEC-003): the one flow of Gatehouse that needs JavaScript
// (SPEC §1). No build step, no dependencies.
//
// Buttons declare what they do; one listener on `document` handles them all, so buttons
// added later (hydration, client-side navigation) work too:
//   <button type="button" data-passkey="register">   add a passkey to the signed-in account
//   <button type="button" data-passkey="login">      sign in with a passkey alone
//   <button type="button" data-passkey="mfa">        use a passkey as the second factor
// Optional: `data-return-to="/path"` on login/mfa buttons; an `<input data-passkey-name>`
// near the register button names the new passkey; an `<input name="trust_device">` on the
// page is honoured by the mfa button. Errors are written into the nearest
// `[data-passkey-error]` element (give it role="alert").
//
// Each ceremony: POST /passkeys/<flow>/start -> {challenge_id, options: {publicKey}},
// navigator.credentials.create/get, POST /passkeys/<flow>/finish -> {redirect} (login,
// mfa) or {passkey} (register: the page reloads with ?passkey=added). The server speaks
// webauthn-rs's JSON, where every binary field is a base64url string.
(function () {
  'use strict';
  if (window.gatehousePasskeys) return; // loaded once, whatever the page includes
  window.gatehousePasskeys = true;

  // --- base64url <-> bytes -----------------------------------------------------------

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) base64 += '=';
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // Browsers reject `null` where a dictionary member is optional: leave such members out.
  function withoutNulls(value) {
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (value && typeof value === 'object') {
      var out = {};
      Object.keys(value).forEach(function (key) {
        if (value[key] !== null && value[key] !== undefined) out[key] = withoutNulls(value[key]);
      });
      return out;
    }
    return value;
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var d = { type: c.type, id: toBytes(c.id) };
      if (c.transports) d.transports = c.transports;
      return d;
    });
  }

  function creationOptions(options) {
    var pk = withoutNulls(options.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    if (pk.excludeCredentials) pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = withoutNulls(options.publicKey);
    pk.challenge = toBytes(pk.challenge);
    if (pk.allowCredentials) pk.allowCredentials = descriptors(pk.allowCredentials);
    return { publicKey: pk };
  }

  function extensionResults(credential) {
    try {
      return credential.getClientExtensionResults ? credential.getClientExtensionResults() : {};
    } catch (e) {
      return {};
    }
  }

  function registrationJSON(credential) {
    var r = credential.response;
    var response = {
      attestationObject: toBase64url(r.attestationObject),
      clientDataJSON: toBase64url(r.clientDataJSON),
    };
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      clientExtensionResults: extensionResults(credential),
    };
  }

  function assertionJSON(credential) {
    var r = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
      },
      clientExtensionResults: extensionResults(credential),
    };
  }

  // --- talking to the server -------------------------------------------------------------

  function post(path, body) {
    return fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      return res.json().then(
        function (data) { return { ok: res.ok, data: data }; },
        function () { return { ok: res.ok, data: {} }; }
      );
    }).then(function (answer) {
      if (!answer.ok) {
        throw new PasskeyError(answer.data.error || 'The server refused the passkey request. Please try again.');
      }
      return answer.data;
    });
  }

  function PasskeyError(message) {
    this.message = message;
  }

  // What a person should read when the browser or authenticator says no.
  function explain(error) {
    if (error instanceof PasskeyError) return error.message;
    switch (error && error.name) {
      case 'NotAllowedError':
      case 'AbortError':
        return 'The passkey request was cancelled or timed out. Please try again.';
      case 'InvalidStateError':
        return 'This authenticator already holds a passkey for your account.';
      case 'SecurityError':
        return 'Passkeys only work on the secure address of this site.';
      case 'NotSupportedError':
        return 'This authenticator does not support the passkeys this site needs.';
      case 'TypeError':
        return 'The server could not be reached. Check your connection and try again.';
      default:
        return 'The passkey could not be used. Please try again.';
    }
  }

  // --- the three flows -------------------------------------------------------------------

  function nearest(button, selector) {
    for (var node = button.parentElement; node; node = node.parentElement) {
      var found = node.querySelector(selector);
      if (found) return found;
    }
    return null;
  }

  function register(button) {
    var nameInput = nearest(button, '[data-passkey-name]');
    return post('/passkeys/register/start').then(function (started) {
      return navigator.credentials.create(creationOptions(started.options)).then(function (credential) {
        return post('/passkeys/register/finish', {
          challenge_id: started.challenge_id,
          credential: registrationJSON(credential),
          name: nameInput && nameInput.value ? nameInput.value : null,
        });
      });
    }).then(function () {
      var url = new URL(window.location.href);
      url.searchParams.set('passkey', 'added');
      window.location.assign(url.toString());
    });
  }

  function authenticate(flow, button) {
    var returnTo = button.getAttribute('data-return-to') || new URLSearchParams(window.location.search).get('return_to');
    var trust = document.querySelector('input[name="trust_device"]');
    return post('/passkeys/' + flow + '/start').then(function (started) {
      return navigator.credentials.get(requestOptions(started.options)).then(function (credential) {
        var body = {
          challenge_id: started.challenge_id,
          credential: assertionJSON(credential),
          return_to: returnTo || null,
        };
        if (flow === 'mfa') body.trust_device = !!(trust && trust.checked);
        return post('/passkeys/' + flow + '/finish', body);
      });
    }).then(function (finished) {
      window.location.assign(finished.redirect || '/');
    });
  }

  var flows = {
    register: register,
    login: function (button) { return authenticate('login', button); },
    mfa: function (button) { return authenticate('mfa', button); },
  };

  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('[data-passkey]') : null;
    if (!button) return;
    var flow = flows[button.getAttribute('data-passkey')];
    if (!flow) return;
    event.preventDefault();
    if (button.getAttribute('aria-busy') === 'true') return;

    var errorBox = nearest(button, '[data-passkey-error]');
    function show(message) {
      if (!errorBox) return;
      errorBox.textContent = message;
      errorBox.hidden = !message;
      if (message && !errorBox.getAttribute('role')) errorBox.setAttribute('role', 'alert');
    }
    show('');
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show('This browser does not support passkeys.');
      return;
    }
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    flow(button).catch(function (error) {
      show(explain(error));
      button.disabled = false;
      button.removeAttribute('aria-busy');
    });
  });
})();
